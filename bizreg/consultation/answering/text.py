"""Text analysis for the answering engine: one Analyzer turns a question or an article into three term
streams, each indexed as its own BM25 field:

- words: jieba segmentation (precise mode, then the search-mode sub-words of long words), synonyms and
  abbreviations rewritten to their canonical term (个体户 → 个体工商户), stop words dropped;
- bigrams: character bigrams of the rewritten text, so a one-character typo (营叶执照) still shares most
  of its bigrams with the right article;
- pinyin: bigrams of fuzzy pinyin syllables (zh/z, ch/c, sh/s and -ng/-n merged), so homophone typos
  (营业执造) and questions typed in pinyin (yingye zhizhao) match.

A Respeller, built from the index's own vocabulary, also turns what was typed in pinyin (zhuxiao) or
mistyped with a homophone (注消, 掉销, 天写) into the knowledge base's word (注销, 吊销, 填写), the way
an input method would, so such a question matches on whole words and not only on bigrams.

The same Analyzer (same synonyms, same dictionary) analyses documents and queries, so both sides agree.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bizreg.core.segmentation import new_jieba_tokenizer

# Registration terms jieba's general dictionary splits or does not know. Kept whole so they are one
# searchable term (and their parts are still added as search-mode sub-words).
REGISTRATION_TERMS: tuple[str, ...] = (
    "个体工商户",
    "营业执照",
    "电子营业执照",
    "统一社会信用代码",
    "一网通办",
    "全程电子化",
    "简易注销",
    "普通注销",
    "注销登记",
    "清算组",
    "清算报告",
    "注销公告",
    "经营范围",
    "注册资本",
    "实缴出资",
    "认缴出资",
    "法定代表人",
    "股权转让",
    "自贸区",
    "有限责任公司",
    "一人有限责任公司",
    "股份有限公司",
    "个人独资企业",
    "合伙企业",
    "分公司",
    "外商投资企业",
    "名称自主申报",
    "名称预先核准",
    "市场主体",
    "市场监督管理局",
    "公司章程",
    "章程备案",
    "联络员",
    "董事监事经理",
    "迁移调档函",
    "迁入",
    "迁出",
    "年报",
    "经营场所",
    "住所",
    "住所变更",
    "设立登记",
    "变更登记",
    "备案",
    "设立公司",
    "登记机关",
    "委托书",
    "授权委托书",
    "身份证明",
    "冒用身份",
    "档案查询",
    "电子档案",
    "办理时限",
    "遗失补领",
    "补领",
    "领取",
    "邮寄",
    "收费",
    "时限",
)

# Synonyms and abbreviations people use → the term the knowledge base writes. Extended (and overridden) by
# the Synonym table. Canonical terms are never themselves rewritten (no chains).
BUILTIN_SYNONYMS: dict[str, str] = {
    "个体户": "个体工商户",
    "个体": "个体工商户",
    "执照": "营业执照",
    "营业证": "营业执照",
    "电子执照": "电子营业执照",
    "信用代码": "统一社会信用代码",
    "社会信用代码": "统一社会信用代码",
    "统一代码": "统一社会信用代码",
    "法人": "法定代表人",
    "法人代表": "法定代表人",
    "网办": "一网通办",
    "网上办理": "一网通办",
    "全程网办": "全程电子化",
    "电子化登记": "全程电子化",
    "注册资金": "注册资本",
    "注资": "注册资本",
    "营业范围": "经营范围",
    "经营项目": "经营范围",
    "股份转让": "股权转让",
    "自贸试验区": "自贸区",
    "自由贸易试验区": "自贸区",
    "有限公司": "有限责任公司",
    "一人公司": "一人有限责任公司",
    "股份公司": "股份有限公司",
    "独资企业": "个人独资企业",
    "外资企业": "外商投资企业",
    "外资公司": "外商投资企业",
    "外企": "外商投资企业",
    "工商局": "市场监督管理局",
    "市监局": "市场监督管理局",
    "市场监管局": "市场监督管理局",
    "注册地址": "住所",
    "公司地址": "住所",
    "办公地址": "住所",
    "经营地址": "经营场所",
    "开公司": "设立公司",
    "注册公司": "设立公司",
    "成立公司": "设立公司",
    "开办公司": "设立公司",
    "年检": "年报",
    "年审": "年报",
    "年度报告": "年报",
    "丢了": "遗失",
    "丢失": "遗失",
    "弄丢": "遗失",
    "补办": "补领",
    "多少钱": "收费",
    "费用": "收费",
    "多久": "时限",
    "多长时间": "时限",
    "几天": "时限",
    "调档函": "迁移调档函",
    "盗用身份": "冒用身份",
    "被冒用": "冒用身份",
    "冒名登记": "冒用身份",
}


def _word_list(text: str) -> list[str]:
    """Words written as a block of whitespace-separated text (long lists stay readable)."""
    return text.split()


# Function words and question particles: they say nothing about which article is meant.
STOP_WORDS: frozenset[str] = frozenset(
    _word_list(
        """
        的 了 吗 呢 啊 吧 呀 哦 嘛 么 哈 嗯 喔 哇 是 在 和 与 及 或 或者 还是 就 都 也 还 又 把 被 给 对
        向 从 到 让 我 我们 你 你们 您 他 她 它 他们 她们 咱们 自己 这 那 这个 那个 这些 那些 这样 那样
        这里 那里 此 怎么 怎样 怎么样 如何 什么 啥 哪 哪里 哪儿 哪个 哪些 请问 请 问 问下 问一下 一下
        一个 想 想要 要 能 能否 能不能 可以 可不可以 可否 会 应该 得 地 着 过 吗 么 呗 咋 咋办 怎么办 该
        有没有 是不是 是否 有 没有 个 下 里 上 中 等 等等 之 其 并 且 而 但 但是 如果 因为 所以 然后
        已经 现在 一直 比较 非常 很 太 最 更 谢谢 你好 您好 麻烦 帮忙 帮 一 二
        跟 干嘛 干啥 还要 以后 之后 后 做 弄 搞
        不能 不行 行不行 不是 要不要 没法 怎么弄 干什么 呀 哪儿
        """
    )
)

GREETINGS: frozenset[str] = frozenset(
    {"你好", "您好", "在吗", "在不在", "有人吗", "hi", "hello", "哈喽", "嗨", "早上好", "下午好", "晚上好"}
)
THANKS: frozenset[str] = frozenset(
    {
        "谢谢",
        "谢谢你",
        "谢谢您",
        "多谢",
        "感谢",
        "非常感谢",
        "thanks",
        "thankyou",
        "好的谢谢",
        "好的",
        "再见",
        "拜拜",
    }
)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORD_CHARS = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")
_NOT_WORD = re.compile(r"[^\w\u3400-\u4dbf\u4e00-\u9fff]+")
_ASCII_WORD = re.compile(r"^[a-z0-9]+$")

# Every syllable of Mandarin (pypinyin NORMAL style, ü written v): to split pinyin typed without spaces.
_SYLLABLES = frozenset(
    _word_list(
        """
        a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao
        ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui
        chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de den deng di dian diao die ding diu
        dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng fo fou fu ga gai gan gang gao
        ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong
        hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun
        ka kai kan kang kao ke ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le
        lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve ma mai man mang
        mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei nen neng ni
        nian niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen
        peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que
        qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha
        shai shan shang shao she shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou
        su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo
        wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya
        yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai
        zhan zhang zhao zhe zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou
        zu zuan zui zun zuo
        """
    )
)
_MAX_SYLLABLE = max(map(len, _SYLLABLES))


def normalize_text(text: str) -> str:
    """Full-width → half-width (NFKC), lower case, runs of whitespace → one space."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def normalize_question(text: str, limit: int = 200) -> str:
    """The key a knowledge gap is counted by: lower case, no punctuation or whitespace, at most `limit`."""
    return _NOT_WORD.sub("", normalize_text(text)).replace("_", "")[:limit]


def is_greeting(text: str) -> bool:
    return normalize_question(text) in GREETINGS


def is_thanks(text: str) -> bool:
    return normalize_question(text) in THANKS


def fuzzy_syllable(syllable: str) -> str:
    """Merge the initials and finals that people (and typists) confuse: zh/z, ch/c, sh/s, -ng/-n."""
    if syllable[:2] in ("zh", "ch", "sh"):
        syllable = syllable[0] + syllable[2:]
    if syllable.endswith("ng") and len(syllable) > 2:
        syllable = syllable[:-1]
    return syllable


def split_pinyin(letters: str) -> list[str] | None:
    """Split pinyin typed without separators (yingyezhizhao) into syllables, preferring fewer, longer ones;
    None when the letters are not pinyin at all."""
    n = len(letters)
    if not n or n > 60:
        return None
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - _MAX_SYLLABLE), end):
            prefix = best[start]
            if prefix is not None and letters[start:end] in _SYLLABLES:
                candidate = prefix + [letters[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[n]


@lru_cache(maxsize=50_000)
def _word_pinyin(word: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(
        fuzzy_syllable(p) for p in lazy_pinyin(word, style=Style.NORMAL, errors="ignore", v_to_u=False) if p
    )


_tokenizer = None
_tokenizer_lock = threading.Lock()
_known_words: set[str] = set()


def _get_tokenizer():
    """The process's own jieba Tokenizer (not jieba's global one, which other code may tune differently),
    loaded once with the registration terms."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                tokenizer = new_jieba_tokenizer()
                for term in REGISTRATION_TERMS:
                    _force_word(tokenizer, term)
                for term, canonical in BUILTIN_SYNONYMS.items():
                    _force_word(tokenizer, term)
                    _force_word(tokenizer, canonical)
                _tokenizer = tokenizer
    return _tokenizer


def _force_word(tokenizer, word: str) -> None:
    """Make jieba keep `word` whole (frequency high enough to beat its parts)."""
    if word in _known_words or len(word) < 2:
        return
    tokenizer.add_word(word, freq=max(tokenizer.FREQ.get(word, 0), tokenizer.suggest_freq(word, tune=False)))
    _known_words.add(word)


# Document analyses by (kind, synonyms fingerprint, text). Bounded: past the limit it starts afresh (a
# knowledge base of 1,000 articles needs about 3,000 entries).
_ANALYSIS_CACHE_LIMIT = 20_000
_analysis_cache: dict[tuple, object] = {}


def _remembered(key: tuple, compute):
    found = _analysis_cache.get(key)
    if found is None:
        if len(_analysis_cache) >= _ANALYSIS_CACHE_LIMIT:
            _analysis_cache.clear()
        found = _analysis_cache[key] = compute()
    return found


@dataclass(frozen=True)
class Analysis:
    words: list[str]
    bigrams: list[str]
    pinyin: list[str]


class Analyzer:
    """Analyses text with one synonym map. Build one per index; queries use the index's analyzer."""

    def __init__(self, synonyms: Mapping[str, str] | None = None):
        merged = dict(BUILTIN_SYNONYMS)
        for term, canonical in (synonyms or {}).items():
            term, canonical = normalize_text(term), normalize_text(canonical)
            if term and canonical and term != canonical:
                merged[term] = canonical
        # Chains (年审 → 年报 in the built-in list, 年报 → 年度报告 in the table) resolve to their end, so a
        # rewritten token is final; a cycle stops where it would repeat.
        self.synonyms = {}
        for term, canonical in merged.items():
            seen = {term}
            while canonical in merged and canonical not in seen:
                seen.add(canonical)
                canonical = merged[canonical]
            if canonical != term:
                self.synonyms[term] = canonical
        # Analyses depend on the synonyms (and the words they added to jieba's dictionary): cached per set.
        self.fingerprint = hash(tuple(sorted(self.synonyms.items())))
        self.tokenizer = _get_tokenizer()
        with _tokenizer_lock:
            for term, canonical in self.synonyms.items():
                _force_word(self.tokenizer, term)
                _force_word(self.tokenizer, canonical)

    def tokens(self, text: str) -> list[str]:
        """jieba precise-mode tokens of the normalised text, synonyms rewritten, punctuation dropped."""
        out = []
        for token in self.tokenizer.cut(normalize_text(text), HMM=False):
            token = token.strip()
            if not token or not _WORD_CHARS.search(token):
                continue
            out.append(self.synonyms.get(token, token))
        return out

    def analyse(self, text: str) -> Analysis:
        return self.analyse_tokens(self.tokens(text))

    def analyse_tokens(self, tokens: list[str]) -> Analysis:
        return Analysis(
            words=self._words(tokens), bigrams=_char_bigrams(tokens), pinyin=_pinyin_bigrams(tokens)
        )

    def words(self, text: str) -> list[str]:
        """Only the word stream (answer texts: no bigram or pinyin field is built from them)."""
        return self._words(self.tokens(text))

    def cached_analyse(self, text: str) -> Analysis:
        """analyse() remembered across index builds: a rebuild after one publish re-analyses one article."""
        return _remembered(("analyse", self.fingerprint, text), lambda: self.analyse(text))

    def cached_words(self, text: str) -> list[str]:
        return _remembered(("words", self.fingerprint, text), lambda: self.words(text))

    def _words(self, tokens: Iterable[str]) -> list[str]:
        return [word for word, _whole in self._word_stream(tokens)]

    def query_words(self, tokens: Iterable[str]) -> dict[str, float]:
        """The query's words with their weights: a word as written counts fully, a word found inside a
        longer one (营业 in 营业执照) only SUBWORD_QUERY_WEIGHT — it is there so partial wording still
        matches, not to count the same idea two or three times over the other words of the question."""
        weights: dict[str, float] = {}
        for word, whole in self._word_stream(tokens):
            weight = 1.0 if whole else SUBWORD_QUERY_WEIGHT
            if weight > weights.get(word, 0.0):
                weights[word] = weight
        return weights

    def _word_stream(self, tokens: Iterable[str]) -> Iterable[tuple[str, bool]]:
        freq = self.tokenizer.FREQ
        for token in tokens:
            if token in STOP_WORDS:
                continue
            # jieba's search mode: a long word also yields the dictionary words inside it, so 个体工商户
            # matches a question that only says 工商户 and 营业执照 one that says 营业.
            if len(token) > 2 and not _ASCII_WORD.match(token):
                for size in (2, 3):
                    if len(token) > size:
                        for i in range(len(token) - size + 1):
                            part = token[i : i + size]
                            if not freq.get(part) or part in STOP_WORDS:
                                continue
                            # A synonym inside a compound (法人 in 公司法人) counts as its canonical term,
                            # unless that is the compound itself (个体 in 个体工商户).
                            canonical = self.synonyms.get(part, part)
                            yield (part if canonical in token else canonical), False
            yield token, True


def _segments(tokens: list[str]) -> list[list[str]]:
    """Runs of consecutive tokens between stop words: bigrams never bridge a stop word, so 怎么/什么 add
    nothing that every question shares."""
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token in STOP_WORDS or _is_pinyin_stop_word(token):
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append(token)
    return [segment for segment in segments if segment]


def _char_bigrams(tokens: list[str]) -> list[str]:
    bigrams: list[str] = []
    for segment in _segments(tokens):
        for run in _CJK.findall("".join(t if _CJK.fullmatch(t) else " " for t in segment)):
            if len(run) == 1:
                bigrams.append(run)
            bigrams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return bigrams


def _pinyin_bigrams(tokens: list[str]) -> list[str]:
    bigrams: list[str] = []
    for segment in _segments(tokens):
        syllables: list[str] = []
        for token in segment:
            if _CJK.fullmatch(token):
                syllables.extend(_word_pinyin(token))
            elif token.isascii() and token.isalpha():
                split = split_pinyin(token)
                if split:
                    syllables.extend(fuzzy_syllable(s) for s in split)
        if len(syllables) == 1:
            bigrams.extend(syllables)
        bigrams.extend(f"{a}_{b}" for a, b in zip(syllables, syllables[1:], strict=False))
    return bigrams


@lru_cache(maxsize=1)
def _pinyin_stop_words() -> frozenset[str]:
    return frozenset("".join(_word_pinyin(word)) for word in STOP_WORDS if len(word) > 1)


def _is_pinyin_stop_word(token: str) -> bool:
    """zenme, ruhe, shenme typed in pinyin are stop words too."""
    if not (token.isascii() and token.isalpha()):
        return False
    split = split_pinyin(token)
    return bool(split) and "".join(fuzzy_syllable(s) for s in split) in _pinyin_stop_words()


# Weight in a query of a word found inside a longer word of it (see Analyzer.query_words).
SUBWORD_QUERY_WEIGHT = 0.25

# A word jieba's dictionary knows at least this often is a real word, not a mistyped one (注消 3, 掉销 0).
TYPO_MAX_FREQUENCY = 50
_MAX_WORD_SYLLABLES = 6


@lru_cache(maxsize=50_000)
def _toned_pinyin(word: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(word, style=Style.TONE3, errors="ignore"))


def _is_pinyin_token(token: str) -> bool:
    return token.isascii() and token.isalpha() and len(token) > 1


class Respeller:
    """Maps pinyin and homophone typos to the words of one vocabulary, as an input method would.

    The vocabulary (word → weight, e.g. its document frequency) is keyed by fuzzy pinyin; when two words
    sound alike the heavier one wins. Only words of two or more syllables are candidates: one syllable
    has too many characters to guess from.
    """

    def __init__(self, vocabulary: Mapping[str, float], frequency: Mapping[str, int]):
        self.frequency = frequency
        self.vocabulary = frozenset(vocabulary)
        best: dict[tuple[str, ...], tuple[float, str]] = {}
        for word, weight in vocabulary.items():
            if len(word) < 2 or word in STOP_WORDS or not _CJK.fullmatch(word):
                continue
            syllables = _word_pinyin(word)
            if len(syllables) != len(word) or len(syllables) > _MAX_WORD_SYLLABLES:
                continue
            if (weight, word) > best.get(syllables, (-1.0, "")):
                best[syllables] = (weight, word)
        self.by_sound = {syllables: word for syllables, (_weight, word) in best.items()}

    def respell(self, tokens: list[str]) -> tuple[list[str], set[str]]:
        """(words the question most likely meant, tokens they replace) for its pinyin tokens, its rare
        words that sound like a known one (身分证), and its runs of single characters jieba could not
        join that sound like a known word (营叶 → 营业, 掉销 → 吊销)."""
        found: list[str] = []
        replaced: set[str] = set()
        run: list[str] = []
        for token in [*tokens, ""]:
            if len(token) == 1 and _CJK.fullmatch(token) and token not in STOP_WORDS:
                run.append(token)
                continue
            if len(run) > 1:
                self._respell_run(run, found, replaced)
            run = []
            if _is_pinyin_token(token) and not _is_pinyin_stop_word(token):
                split = split_pinyin(token)
                words = self._cover([fuzzy_syllable(s) for s in split]) if split else []
                if words:
                    found.extend(word for _start, _end, word in words)
                    replaced.add(token)
            elif (
                len(token) > 1
                and _CJK.fullmatch(token)
                and token not in self.vocabulary
                and self.frequency.get(token, 0) < TYPO_MAX_FREQUENCY
            ):
                # A rare word jieba does know (注消, 报税) is only corrected to a word read exactly alike,
                # tones included: 注消 → 注销 (zhu4 xiao1), but 报税 (bao4) is not taken for 保税 (bao3).
                word = self.by_sound.get(_word_pinyin(token))
                if word is not None and word != token and _toned_pinyin(word) == _toned_pinyin(token):
                    found.append(word)
                    replaced.add(token)
        return found, replaced

    def _respell_run(self, run: list[str], found: list[str], replaced: set[str]) -> None:
        syllables = [_word_pinyin(char) for char in run]
        if any(len(s) != 1 for s in syllables):
            return
        for start, end, word in self._cover([s[0] for s in syllables]):
            surface = "".join(run[start:end])
            # Characters that already spell a word are what was meant (jieba merely split them).
            if surface == word or self.frequency.get(surface, 0) >= TYPO_MAX_FREQUENCY:
                continue
            found.append(word)
            replaced.update(run[start:end])

    def _cover(self, syllables: list[str]) -> list[tuple[int, int, str]]:
        """Known words covering as many syllables as possible (then in as few words as possible):
        [(first syllable, end, word)]."""
        n = len(syllables)
        if n < 2 or n > 60:
            return []
        # best[i]: (syllables covered, -words used, the words) for syllables[:i]
        best: list[tuple[int, int, list]] = [(0, 0, [])] + [(-1, 0, [])] * n
        for end in range(1, n + 1):
            covered, used, words = best[end - 1]
            best[end] = (covered, used, words)  # syllable end-1 left uncovered
            for start in range(max(0, end - _MAX_WORD_SYLLABLES), end - 1):
                word = self.by_sound.get(tuple(syllables[start:end]))
                if word is None:
                    continue
                covered, used, words = best[start]
                candidate = (covered + end - start, used - 1, [*words, (start, end, word)])
                if candidate[:2] > best[end][:2]:
                    best[end] = candidate
        return best[n][2]
