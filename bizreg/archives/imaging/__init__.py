"""The digitization library: intake checks, page processing, OCR, searchable PDFs, indexing guesses.

Pure Python over numpy/OpenCV/Pillow/pypdf/ReportLab/RapidOCR, no models and no database, so the pipeline
services, Celery tasks and the OCR bench all call the same code.

- intake.check_and_split(data, filename) -> list[PageImage]; intake.check_pdf_document(data) -> PdfCheck;
  both raise intake.ScanRejected(reason_code, message_zh).
- process.process_page(page, *, for_ocr=True) -> ProcessedPage (rotation, skew, crop, specks, checks).
- ocr.get_engine(), ocr.recognize(image) -> OcrResult; ocr.character_error_rate(recognised, truth).
- ocr.recognize_crops(rgb, quads) -> list[OcrLine]: recognition alone on given line boxes.
- pdf.searchable_pdf(pages), pdf.pdf_text(data), pdf.watermark_pdf(data, text), pdf.watermark_image(...).
- indexing.guess_index(text) -> IndexGuess.
- samples.generate_page(seed, quality) -> SamplePage; samples.sample_file(page, fmt) -> bytes.
"""
