"""Index guesses from text: USCC (valid only), enterprise names, 文号, dates, titles and DocType."""

import datetime as dt

import pytest

from bizreg.archives.imaging.indexing import guess_index
from bizreg.archives.imaging.ocr import recognize
from bizreg.archives.imaging.samples import generate_page
from bizreg.archives.models import DocType


@pytest.mark.parametrize("seed", range(8))
def test_generated_ground_truth_indexed(seed):
    sample = generate_page(seed, "clean")
    guess = guess_index(sample.text)
    assert guess.usccs == [sample.uscc]
    assert sample.enterprise_name in guess.enterprise_names
    assert guess.doc_type == sample.doc_type
    assert guess.doc_type in DocType.values
    assert guess.doc_number == sample.doc_number
    year, rest = sample.doc_date.split("年")
    month, day = rest.rstrip("日").split("月")
    assert guess.doc_date == dt.date(int(year), int(month), int(day))


def test_ocr_text_of_generated_notice_indexed():
    sample = generate_page(5, "clean")
    assert sample.doc_type == "notice_change"
    guess = guess_index(recognize(sample.image).text)
    assert guess.usccs == [sample.uscc]
    assert sample.enterprise_name in guess.enterprise_names
    assert guess.doc_number == sample.doc_number
    assert guess.title == "变更登记通知书"
    assert guess.responsible_party == "广州市南沙区市场监督管理局"


def test_patterns_and_invalid_uscc_dropped():
    text = (
        "准予设立登记通知书\n穗南市监内设字〔2023〕第00123号\n广州南沙明珠湾科技有限公司：\n"
        "统一社会信用代码：91440115MA59ABCD1X。另见 914401156184538563 与 ９１。\n"
        "南沙区李记个体工商户 广州海港物流有限公司南沙分公司 南沙金洲投资合伙企业（有限合伙）\n"
        "2023-05-06 收件"
    )
    guess = guess_index(text)
    assert guess.usccs == []  # neither code passes the GB 32100 check digit
    assert guess.doc_number == "穗南市监内设字〔2023〕第00123号"
    assert guess.doc_type == DocType.NOTICE_APPROVAL
    assert guess.doc_date == dt.date(2023, 5, 6)
    assert "广州南沙明珠湾科技有限公司" in guess.enterprise_names
    assert "南沙区李记个体工商户" in guess.enterprise_names
    assert any(name.endswith("分公司") for name in guess.enterprise_names)
    other = guess_index("（南沙）登字〔2023〕第123号\n2023年5月6日")
    assert other.doc_number == "（南沙）登字〔2023〕第123号"
    assert other.doc_date == dt.date(2023, 5, 6)


def test_valid_uscc_split_by_ocr_found():
    sample = generate_page(0, "clean")
    split = f"统一社会信用代码：{sample.uscc[:9]} {sample.uscc[9:]}"
    assert guess_index(split).usccs == [sample.uscc]


def test_empty_text():
    guess = guess_index("")
    assert guess.usccs == [] and guess.doc_type == "other" and guess.doc_date is None
