"""Checks on what a question asks for, as evidence for the answer decision.

Coverage (`Hit.coverage`) says how much of the question a passage holds. That is not enough
when the question asks for something particular: a date, a place, who, how many, whether
something is allowed. Members often ask for a detail of something the lecture only names
(反间谍法规定了哪些行为算间谍). Each check here is a plain rule with a reason that
`lecture-bot inspect` shows; none of them decides alone: the learned decision
(`bot.core.decision`) weighs how many checks of each family a question calls for and how
many a passage fails, beside the other evidence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.lectures import Passage
from bot.core.search import Hit
from bot.core.text import Tokenizer, normalize

# Pieces of the patterns below. A document's name ends like these; 法 not in 方法, 做法, 违法,
# 法治, 法律 …
_DOCUMENT = r"((?<![方做看想说违合])法(?![治制律官院理规])|规定|条例|办法|宣言|准则|章程|意见|通知)"
# "可以告诉我…吗", "能不能讲讲…" ask the bot for something, not whether something is allowed.
_REQUEST = r"告诉|说说|讲讲|讲一下|说一下|介绍|解释|帮"
# 能否 is left out: members say 能不能; 能否 is the written word of quotes ("我们能否顶得住").
_ASKS_PERMISSION = (rf"(能不能|可不可以|可以不可以)(?!{_REQUEST})|允不允许|让不让|准不准|"
                    rf"可以(?!{_REQUEST}).{{1,15}}吗")
_PROCEDURE = r"审批|报备|报批|批准|登记|备案|手续|流程|报警|报案|投诉|举报"
_NUMERAL_CHARS = r"[\d〇零一二三四五六七八九十百千万亿.]"


# Answer types: a question that asks for a particular kind of fact is only answered by a
# passage whose matching sentences hold one. "反间谍法什么时候实施的" must not be answered with
# a sentence that merely names the law, nor "大会在哪开的" with one that merely names the
# conference. Every type whose question pattern matches must be satisfied.
@dataclass(frozen=True)
class AnswerType:
    name: str  # what is asked for, as `lecture-bot inspect` names it
    asks: re.Pattern[str]
    answered_by: re.Pattern[str]
    whole_passage: bool = False  # else only in a sentence that matches the question well


def _type(name: str, asks: str, answered_by: str, whole_passage: bool = False) -> AnswerType:
    return AnswerType(name, re.compile(asks), re.compile(answered_by), whole_passage)


ANSWER_TYPES: tuple[AnswerType, ...] = (
    _type("条款号",
          rf"第几条|多少条|哪一?条|{_DOCUMENT}.{{0,8}}几条|{_DOCUMENT}第[一二三四五六七八九十百\d]+条",
          rf"{_NUMERAL_CHARS}+条"),
    # "体制建设说了几条" counts points, not a document's articles: a passage that enumerates
    # (一是…二是…) answers it as a whole.
    _type("条数", rf"^(?!.*{_DOCUMENT}.{{0,8}}几条).*(?<!第)几条",
          rf"{_NUMERAL_CHARS}+条|[一二三四五六七八九十]是", whole_passage=True),
    _type("具体日期", r"哪天|哪一天|几号|几日|具体日期|具体时间",
          r"\d{1,2}[日号]|[一二三四五六七八九十]+[日号]"),
    _type("日期", r"哪一?年|什么时候|啥时候|何时|几时|几月|哪个月|同一年",
          r"\d{4}年|\d{1,2}月|[一二三四五六七八九十]+月|年底|年初|年中"),
    # When a rule takes effect is another date than when it was issued (印发).
    _type("施行日期",
          r"(什么时候|啥时候|何时|哪天|哪年|几月|几号|开始).{0,6}(施行|实施|生效)|(施行|生效)(时间|日期)",
          r"施行|实施|生效"),
    _type("频次", r"多久|多长时间|隔多长|几次|多少次|频率|(一|每)(年|月|周|季度)几|每[年月周天]都",
          r"每[年月周天日季]|[\d一二三四五六七八九十两]+次|定期|经常"),
    # A count or an amount, not a date: 2024年1月 does not say how many members there are.
    _type("数量", r"多少|几[年月天次名岁号万亿人]|第几|百分之几|比例是|多[大高长远重]",
          rf"(?<![\d.])(?!(?:19|20)\d\d\s*年|\d{{1,2}}\s*[月日号])"
          rf"{_NUMERAL_CHARS}+\s*[年月天万亿%名个条人次项件家篇倍元周岁部章节字]"
          rf"|(?<![\d.])(?!(?:19|20)\d\d(?!\d))\d+(?:\.\d+)?(?![\d.]*\s*[年月日号])"),
    # Where something happens or can be done (在哪开的, 去哪举报), not where the lecture says
    # something (这句话在哪说的).
    _type("地点",
          r"(在|去|到)?(哪里?|哪儿|什么地方|啥地方|哪个(地方|城市|网站))(能|可以|去)?"
          r"(开|办|举办|举行|召开|看|查|找|举报|投诉|反映|下载)|哪次会",
          r"在[^,。;]{1,20}(会议|大会|座谈会)上|[省市县]|北京|上海|网站|网址|热线|电话|邮箱|信箱"),
    # With the words before it: 网信部门 answers "哪个部门", a bare 部门 would not.
    _type("主体(谁)", r"谁|哪个(部门|单位|机构|组织)|什么(部门|单位|机构|人)|哪位",
          r"[\u4e00-\u9fff]{0,4}"
          r"(中央|办公厅|国务院|总书记|委员会|党委|党组|部门|机关|单位|组织|企业|大会)"),
    _type("比较",
          r"区别|差别|有(啥|什么)新?(不同|变化|不一样)|不一样|不同之处|一回事|一样吗|相同吗|"
          r"哪个.{0,4}(高|大|强|重要|管用|好)|"
          r"比(?![例如较方重率喻])[^,，。？?]{0,10}(高|低|多|少|强|好)",
          r"区别|不同于|相比|相较|比起|变化"),
    _type("归类", r"算不算|算是|就算|属不属于|属于不属于|算.{1,8}吗",
          r"属于|算作|视为|是指|指的是|包括"),
    # Whether something is allowed is answered by a passage that allows, forbids or condemns
    # (or asks it itself: "我们能否顶得住、打得赢" answers a member's 能不能顶得住).
    _type("是否允许", _ASKS_PERMISSION,
          r"不得|禁止|严禁|不准|不许|允许|可以|不能|不要|抵制|杜绝|妄议|违规|违法|不当|能否"),
    _type("处分",
          r"会(受|被).{0,6}(开除|处分|处理|判|罚|问责|追责)|判几年|罚多少|(咋|怎么|如何|什么|啥)(处分|处罚)|"
          r"法律责任|开除党籍",
          r"开除|警告|撤职|撤销.{0,4}职务|留党察看|罚款|徒刑|拘留|判处|追责|问责|惩处"),
    # Who a rule applies to (预备党员适用吗, 退休党员也归这个管吗).
    _type("适用范围",
          r"适用|适不适用|归(?!谁).{0,12}管吗|管不管|包不包括|在不在.{0,6}范围|对.{1,10}有效吗",
          r"适用|范围|包括|全体|所有"),
    # How something is assessed or scored.
    _type("考核标准", r"考核|考评|打分|评分|评估|什么标准|啥标准|标准是|合格|达标|及格",
          r"考核|考评|评价|标准|指标"),
    # What exactly counts as something (什么算妄议, 怎么界定).
    _type("定义", r"什么算|啥算|怎么算|界定|定义|(怎么|如何|咋)(判断|识别|区分|辨别)",
          r"是指|指的是|所谓|定义|界定|即|识别|辨别"),
    # Cases, model persons, further reading: a lecture rarely names them.
    _type("案例", r"典型|事迹|案例|真实例子", r"典型|事迹|案例|例如|比如"),
    _type("推荐", r"推荐|参考书|学习资料|哪里能学|去哪学", r"推荐|参考|参阅|书目|教材"),
    # Procedures: approvals, filings, forms.
    _type("手续", _PROCEDURE, _PROCEDURE),
    # Origins and durations: when something was first said, how long something took.
    _type("由来", r"最早|首次|第一次|起源|由来|来历|(用了|花了|经过了?)多少年",
          r"最早|首次|第一次|起源|由来|来历|\d+年(来|间)"),
    # The bot's own opinion: it can only quote the lecture ("讲稿怎么看" is fine).
    _type("看法", r"你(觉得|认为|怎么看|咋看|的看法|的意见)", r"(?!)"),
)
# The share of the best sentence's score from which a sentence counts for an answer type.
# On the 360 tuning questions 0.3 and 0.4 did best: "any sentence" (0) answered 3 more
# out-of-scope questions, 0.5 and up lost an answerable one whose typos (网络为规定, 印法)
# weaken its date sentence.
ANSWER_SENTENCE_SHARE = 0.3
# Questions after an exact quantity, after specifics, or whether something is allowed
# ("女党员有多少", "具体措施有哪些", "能不能匿名发帖"): every informative word of theirs must
# be in the passage, since any one may narrow the question to what the lecture does not say
# (女 in 女党员, 匿名 in 匿名发帖). "Informative" is a weight from 8 on (a word about 1 in
# 3,000 in jieba's dictionary): 6, 7 and 8 were swept on 260 tuning questions; 8 refused as
# many (+9) and lost one answerable question fewer (1). Permission questions joined later,
# on 560 tuning questions: +2 refusals, no answerable question lost.
_EXACTING_QUESTION = re.compile(
    rf"多少|几[年月天次名岁号万亿人]|第几|百分之几|比例|具体|{_ASKS_PERMISSION}")
EXACTING_WORD_WEIGHT = 8.0
# Counts whose unit the answer must give (人, 名 and 个 are left out: 党员有多少人 is answered by
# 9918.5万名; 哪几部法律 asks which, not how many).
_COUNTED_UNIT = re.compile(
    r"(多少|(?<!哪)几)(个)?(?P<unit>字|章|节|款|页|元|块钱|岁|天|周|小时|分钟|公里|篇|届|部分)")
# A question about what a document says (反间谍法规定了哪些…, 公务员法对…有啥规定), not about
# how the lecture mentions it (这几个法讲稿咋提的).
_ASKS_CONTENTS = re.compile(
    r"规定了?(什么|啥|哪些)|(有|作了?|作出)(啥|什么|哪些)(具体)?(规定|要求)|(怎么|如何|咋)规定|"
    r"(说|讲|写)了(什么|啥|哪些)|(具体|主要)?内容|全文|条文")
_DOCUMENT_WORD = re.compile(rf".{{2}}{_DOCUMENT}$")
# Places are premises like numbers: "美国对公务员发言有啥规定" is not answered by a passage on
# China's laws, nor "境外哪些势力" by one that does not say 境外.
_PLACE = re.compile(
    r"美国|英国|法国|德国|日本|韩国|朝鲜|俄罗斯|新加坡|印度|越南|澳大利亚|加拿大|欧洲|欧盟|非洲|"
    r"台湾|香港|澳门|境外|国外|外国|海外|西方|全世界|全球|世界各国|世界|国际上?")
# "中央办公厅主任是谁" asks for a person in a role: the role must be in the passage, not only
# the body (中央办公厅) it belongs to.
_ASKS_WHO = re.compile(r"谁|哪位|什么人")
_ROLE = re.compile(
    r"(主任|部长|书记|主席|负责人|局长|厅长|作者|主讲人?|讲课人|发言人|群主|领导人)$")
# A named penalty ("会被开除党籍吗") is a premise too: 惩处 in general does not answer it.
_PENALTY = re.compile(r"开除党籍|开除|撤职|警告|留党察看|判刑|坐牢|罚款|拘留|记过")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


# The families of checks, as the decision's features count them.
FAMILIES = ("type", "exacting", "premise")


@dataclass(frozen=True)
class Evidence:
    """For one hit: how many checks of each family the question calls for, how many fail."""

    asked: dict[str, int]
    failed: dict[str, int]
    reasons: tuple[str, ...]  # why, in Chinese, for `lecture-bot inspect`


def evidence(query: str, hits: Sequence[Hit], tokenizer: Tokenizer,
             words: Sequence[str] | None = None) -> list[Evidence]:
    """The checks' verdicts on each hit, the question analysed once for all of them
    (`words`: its content words, when the search already has them)."""
    checks = _checks_for(query, tokenizer, words)
    asked = {family: sum(check.family == family for check in checks) for family in FAMILIES}
    results = []
    for hit in hits:
        failing = [check for check in checks if not check.passes(hit)]
        failed = {family: sum(c.family == family for c in failing) for family in FAMILIES}
        results.append(Evidence(asked, failed, tuple(c.reason for c in failing)))
    return results


@dataclass(frozen=True)
class _Check:
    reason: str  # shown by `lecture-bot inspect` when a hit fails the check
    passes: Callable[[Hit], bool]
    # "type": the kind of fact asked for; "exacting": every informative word must be there;
    # "premise": names, places, numbers and listed documents the question takes as given.
    family: str = "premise"


def _checks_for(query: str, tokenizer: Tokenizer,
                words: Sequence[str] | None = None) -> list[_Check]:
    """What a confident hit must also pass to answer this question."""
    if words is None:
        words = tokenizer.analyze(query).content_words
    return (_answer_type_checks(query) + _unit_checks(query)
            + _exacting_checks(query, words, tokenizer)
            + _listed_document_checks(query, words) + _premise_checks(query, words, tokenizer))


def _answer_type_checks(query: str) -> list[_Check]:
    return [_Check(f"问的是{asked.name},相关句子里没有",
                   functools.partial(_holds_answer_type, asked=asked, query=query), "type")
            for asked in ANSWER_TYPES if asked.asks.search(query)]


def _unit_checks(query: str) -> list[_Check]:
    """"天津宣言多少字" asks for a count of 字: a sentence must count 字, not just hold a year."""
    units = sorted({m.group("unit") for m in _COUNTED_UNIT.finditer(query)})
    if not units:
        return []
    counted = re.compile(rf"{_NUMERAL_CHARS}+\s*(?:{'|'.join(map(re.escape, units))})")
    return [_Check(f"问的是多少{'、'.join(units)},相关句子里没有",
                   functools.partial(_has_where_matched, pattern=counted), "type")]


def _exacting_checks(query: str, words: Sequence[str], tokenizer: Tokenizer) -> list[_Check]:
    if not _EXACTING_QUESTION.search(query):
        return []
    # English words are mostly the member's filler ("党员 total 有多少 million"); a lone
    # character is often what is left of a typo (普及律 → 普及 / 律), and a run that jieba
    # glued from colloquial characters (干些啥 → 干些) is no word of the question's subject.
    informative = {word for word in words
                   if len(word) > 1 and not word.isascii() and tokenizer.knows(word)
                   and tokenizer.word_weight(word) >= EXACTING_WORD_WEIGHT}
    return [_Check(f"问得很细,须有全部关键词:{'、'.join(sorted(informative))}",
                   lambda hit: informative <= set(hit.matched_terms), "exacting")]


def _listed_document_checks(query: str, words: Sequence[str]) -> list[_Check]:
    documents = [word for word in words if _DOCUMENT_WORD.search(word)]
    if not documents or not _ASKS_CONTENTS.search(query):
        return []
    return [_Check(f"问的是{'、'.join(documents)}的内容,讲稿只在列举中提到它",
                   functools.partial(_more_than_listed, documents=documents))]


def _premise_checks(query: str, words: Sequence[str], tokenizer: Tokenizer) -> list[_Check]:
    """Roles, places and numbers the question takes as given must be where the answer is."""
    checks = []
    roles = [word for word in words if _ROLE.search(word)] if _ASKS_WHO.search(query) else []
    if roles:
        checks.append(_Check(f"问的是{'、'.join(roles)}是谁,段落里没有",
                             functools.partial(_names_every, words=roles)))
    penalties = [word for word in words if _PENALTY.fullmatch(word)]
    if penalties:
        checks.append(_Check(f"问的是{'、'.join(penalties)},段落里没有",
                             functools.partial(_names_every, words=penalties)))
    places = [word for word in words if _PLACE.fullmatch(word)]
    if places:
        checks.append(_Check(f"问的是{'、'.join(places)}的情况,段落里没有",
                             functools.partial(_names_every, words=places)))
    numbers = _NUMBER.findall(normalize(query))
    if numbers:
        checks.append(_Check(
            f"问题中的数字({'、'.join(numbers)})不与其他关键词同在一句",
            functools.partial(_numbers_in_context, numbers=numbers, words=words,
                              tokenizer=tokenizer)))
    return checks


def _names_every(hit: Hit, words: list[str]) -> bool:
    text = folded_text(hit.passage)
    return all(word in text for word in words)


def _more_than_listed(hit: Hit, documents: list[str]) -> bool:
    """Does the passage say something of each document, not only list it among others?

    "网络安全法、国家安全法、反间谍法、公务员法和…等" names four laws; it does not say what
    any of them rules, so "反间谍法规定了哪些行为算间谍" is not answered by it.
    """
    text = folded_text(hit.passage)
    for document in documents:
        places = [m.start() for m in re.finditer(re.escape(document), text)]
        if places and all(_is_listed(text, start, start + len(document)) for start in places):
            return False
    return True


def _is_listed(text: str, start: int, end: int) -> bool:
    """Is text[start:end] an item of a 、-separated list?"""
    before = text[start - 1] if start > 0 else ""
    return before == "、" or text[end:end + 1] == "、"


@functools.lru_cache(maxsize=1024)
def number_in_text(number: str) -> re.Pattern[str]:
    """The number where a text gives it: itself, or more exactly (10 or 10.9 → 10.92), or a
    year in full (23年 → 2023年); not as a part of another (2 in 2023, 92 in 10.92)."""
    if "." in number:
        return re.compile(rf"(?<![\d.]){re.escape(number)}")
    century = "(?:19|20)?" if len(number) == 2 else ""
    return re.compile(rf"(?<![\d.]){century}{re.escape(number)}(?!\d)")


# A passage's normalised text is asked for again and again (each question, each check); a
# few thousand passages is far more than one knowledge base holds.
@functools.lru_cache(maxsize=4096)
def folded_sentences(passage: Passage) -> tuple[str, ...]:
    return tuple(normalize(sentence) for sentence in passage.sentences)


@functools.lru_cache(maxsize=4096)
def folded_text(passage: Passage) -> str:
    return normalize(passage.text)


def _holds_answer_type(hit: Hit, asked: AnswerType, query: str = "") -> bool:
    if asked.whole_passage:
        return asked.answered_by.search(hit.passage.text) is not None
    return _has_where_matched(hit, asked.answered_by, query)


def _has_where_matched(hit: Hit, pattern: re.Pattern[str], query: str = "") -> bool:
    """Does a sentence that matches the question well hold what the pattern asks, beyond
    what the question itself says? ("大会是谁主办的" is not answered by the 大会 it names.)

    "Well" is a share of the best sentence's score: a passage's other sentences often share
    a word or two with the question, and the fact must be where the question points.
    """
    sentences = folded_sentences(hit.passage)
    floor = ANSWER_SENTENCE_SHARE * max(hit.sentence_scores, default=0.0)
    asked = normalize(query)
    return any(score > 0 and score >= floor
               and any(m.group() not in asked for m in pattern.finditer(sentences[i]))
               for i, score in enumerate(hit.sentence_scores))


def _numbers_in_context(hit: Hit, numbers: list[str], words: Sequence[str],
                        tokenizer: Tokenizer) -> bool:
    """Does each number of the question stand in a sentence with the question's other words?

    A number is a premise: "2022年的网民规模" is not answered by a passage that has 2022 in
    one sentence (a conference) and 网民规模 in another (of 2023).
    """
    others = [term for term in hit.matched_terms if not _NUMBER.fullmatch(term)]
    if not others:
        # Only the number matched: an answer if the question is about the number itself
        # (9918.5万是什么), not if its other words are missing (规定是2023年出的对吧).
        return not any(len(word) > 1 and not _NUMBER.fullmatch(word) for word in words)
    for number in numbers:
        alone = number_in_text(number)
        sentences = (s for s, folded in zip(hit.passage.sentences, folded_sentences(hit.passage),
                                            strict=True) if alone.search(folded))
        if not any(set(others) & set(tokenizer.words(s)) for s in sentences):
            return False
    return True
