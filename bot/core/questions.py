"""A member's message → the questions in it.

Members send one short question, or two at once ("三地是啥?还有网民多少"), or, older members
above all, a story of several sentences that ends in a question. Each question is answered on
its own; the story around it is left out of the search, where its words would only pull in
passages about the story. Pure text work: no search, no lecture.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bot.core.text import has_word_chars, normalize, strip_control

# A message is read up to this length (of its distinct sentences); anything longer is cut, and
# the reply says so.
MAX_MESSAGE_CHARS = 1000
# A message is scanned up to this length for its distinct sentences (a Telegram message holds
# at most 4,096 characters; the command line takes anything).
MAX_READ_CHARS = 10 * MAX_MESSAGE_CHARS
# One question is searched up to this length: real questions are far shorter.
MAX_QUESTION_CHARS = 300
# At most this many questions of one message are answered, one reply each.
MAX_QUESTIONS = 3
# A question that points back ("那怎么办?", "这种情况算违纪吗?", "为啥?") leans on the
# sentence before it; "三地是啥?" after "老师好!" does not.
_LEANS_BACK = re.compile(
    r"^(那|这|那么|这样|那样|这种|那种|这个|那个|这些|那些|所以|然后|可是|但是|如果这样)"
    r"|^(为啥|为什么|怎么办|咋办|怎么回事|是吗|对吗|真的吗|行吗|可以吗)[?？]?$")

# Sentence ends; a line break ends a sentence too (voice input, pasted text). Inside quotation
# marks nothing ends the member's sentence: "有一句“……”,后半句是什么?" quotes a fragment of the
# lecture, and "他问我“能转发吗?”" reports what someone said.
_SENTENCE_ENDS = frozenset("。！？!?；;")
_QUOTE_PAIRS = {"“": "”", "「": "」", "『": "』", "‘": "’", "\"": "\""}
# An ellipsis (……, ..., 。。。, ⋯) marks words left out or a pause, not the end of what is asked:
# it ends a sentence only outside quotes and when a new sentence follows it, never before a
# comma, a closing quote or other punctuation that carries the same sentence on.
_ELLIPSIS = re.compile(r"[…⋯]+|\.{2,}|。{2,}")
_CARRIES_ON = re.compile(r"\s*[,，、:：;；”」』’\")）)?？!！。…⋯.]")
# Where one question ends and another begins inside a sentence: 另外 / 顺便问下 after a pause
# ("事后追责怎么搞 另外第二部分讲了啥"); 还有 only after a sentence's end, since "网上,还有哪些
# 乱象" is one question.
_QUESTION_BREAK = re.compile(r"(?:^|[\s,，])\s*(?=另外|顺便问一?下|再问一?下)")
# A later question's opening word ("另外…", "还有…") is no part of what it asks.
_LEADING_CONNECTOR = re.compile(r"^\s*(还有|另外|顺便问一?下|再问一?下)[,，、\s]*")
_QUESTION_MARK = re.compile(r"[?？]")
# What makes a sentence a question or a request for information, in Chinese as members type.
# 几 asks (几条, 第几) except in 前几天, 这几年, 好几个, 几乎.
_ASKS = re.compile(
    r"什么|啥|怎么|怎样|咋|如何|为什么|为何|为啥|哪|谁|(?<![前这好十没那])几(?!乎)|多少|多久|"
    r"多大|吗|嘛|么|呢|是否|"
    r"是不是|能不能|能否|可不可以|可以不|有没有|要不要|会不会|算不算|区别|意思|"
    r"请问|想问|问一下|问下|请教|请讲|讲讲|说说|介绍|解释|告诉我|想知道|想了解|求")


# Words that hold an interrogative without asking: indefinite uses (什么都懂, 谁也不, 怎么也,
# 我们几个), 没怎么 (hardly), 这么 / 那么 / 多么 / 要么, set phrases (哪怕, 不好意思, 要求), and
# telling or explaining to someone else or in the past (跟他讲讲, 做过解释). A story sentence
# that holds them ("不能什么都往群里发", "没怎么听明白") is not a question for that.
_NOT_ASKING = re.compile(
    r"(什么|啥|谁|哪儿|哪里|哪个|怎么|咋|多少)[都也]|[没不]怎么|[这那多要]么|们几|哪怕|"
    r"不好意思|有意思|没意思|多多少少|或多或少|多少有[点些]|[要追需讲谋寻征诉渴请恳务]求|"
    r"[跟给和对向][他她它]们?(讲讲|说说|解释|介绍)|[做作][过了](解释|介绍)")
# Asking for information outright: such a sentence asks even without a question mark.
_REQUEST = re.compile(r"请问|想问|问一下|问下|请教|想知道|想了解|告诉我")
# A question told, not asked ("不知道…有没有问题"): the story's worry, not a question to answer.
_EMBEDDED = re.compile(r"不知道|不清楚|不确定|不晓得|不明白|搞不清|弄不清|不懂")
_CLAUSE_BREAK = re.compile(r"[,，;；:：]")


@dataclass(frozen=True)
class _Sentence:
    text: str  # as typed, quoted words and all
    own: str  # the member's own words: the text without what it quotes
    opened: bool = False  # opened by a word that announces a further question (另外, 还有)


def read_text(message: str) -> str:
    """What is read of a message: control characters dropped, a sentence that repeats an
    earlier one (the same once normalised) left out, and the rest cut at MAX_MESSAGE_CHARS.
    A sentence pasted a hundred times does not push the question after it out of reach."""
    # An escape sequence's ";" (ESC[1;4m) would end a sentence.
    return _distinct_text(message)[:MAX_MESSAGE_CHARS]


def is_cut(message: str) -> bool:
    """Was part of the message left unread (beyond MAX_MESSAGE_CHARS of distinct text)?"""
    return len(_distinct_text(message)) > MAX_MESSAGE_CHARS


def question_parts(message: str) -> list[str]:
    """The distinct questions of a message, in order, at most MAX_QUESTIONS (at least one if
    it has words): each a sentence that asks, with the sentence before it when it points back
    to it. A message with no asking sentence is one question as a whole.

    When the member marks questions with a question mark, the sentences without one are the
    story around them unless they ask outright (请问…), open a further question (另外…), end
    the message, or end in a direct question ("网民有多少。"): "不能什么都往群里发" and
    "不知道…有没有问题" in a story are no questions."""
    text = read_text(message)
    sentences = [s for s in _sentences(text) if has_word_chars(s.text)]
    asking = _asking(sentences)
    if not asking:
        return [text.strip()[:MAX_QUESTION_CHARS]] if has_word_chars(text) else []
    parts: list[str] = []
    seen: set[str] = set()
    for i in asking:
        part = sentences[i].text
        if _LEANS_BACK.search(part.strip()) and i > 0 and i - 1 not in asking:
            part = sentences[i - 1].text + part
        part = part.strip()[:MAX_QUESTION_CHARS]
        if _folded(part) not in seen:  # the same question asked twice is answered once
            seen.add(_folded(part))
            parts.append(part)
    return parts[:MAX_QUESTIONS]


def _asking(sentences: list[_Sentence]) -> list[int]:
    """The positions of the sentences that ask. A question told (不知道…有没有问题) counts
    only when no sentence asks outright."""
    marked = [bool(_QUESTION_MARK.search(s.own)) for s in sentences]
    asks = [_asks(s.own) and not _told(s.own) for s in sentences]
    if any(marked):
        last = len(sentences) - 1
        return [i for i, s in enumerate(sentences)
                if marked[i] or (asks[i] and (s.opened or i == last or _REQUEST.search(s.own)
                                              or _ends_in_a_question(s.own)))]
    if any(asks):
        return [i for i, a in enumerate(asks) if a]
    return [i for i, s in enumerate(sentences) if _asks(s.own)]


def _told(sentence: str) -> bool:
    """Does the sentence only tell of a question (every clause that asks is 不知道…)?"""
    asking = [c for c in _CLAUSE_BREAK.split(sentence) if _asks(c)]
    return bool(asking) and all(_EMBEDDED.search(c) for c in asking)


def _ends_in_a_question(sentence: str) -> bool:
    """Does the sentence's last clause ask, other than as a question told (不知道…吗)?"""
    clause = _CLAUSE_BREAK.split(sentence.strip().rstrip("。.!！"))[-1]
    return _asks(clause) and not _EMBEDDED.search(clause)


# Thanks, praise and acknowledgements ("谢谢书记 讲得很实在", "👍 学习了"): a message made of
# them that asks nothing is small talk, however it is worded.
_COURTESY = re.compile(
    r"谢谢|感谢|多谢|谢啦|辛苦|好的|收到|明白了|学习了|已学习|学到了|受教|打卡|点赞|"
    r"讲得(真|很|太|非常|特别)?(好|棒|精彩|实在|生动|透彻|清楚)|👍|🙏|💪|赞")


def is_courtesy(message: str) -> bool:
    """Does the message only thank, praise or acknowledge (no sentence of it asks)?"""
    return bool(_COURTESY.search(message)) and not any(
        _asks(s.own) for s in _sentences(message))


@functools.lru_cache(maxsize=8)  # read by several steps of one answer
def _distinct_text(message: str) -> str:
    """The message without control characters and without repeated sentences, read up to
    MAX_READ_CHARS."""
    text = strip_control(message[:MAX_READ_CHARS])
    seen: set[str] = set()
    kept = []
    for start, end in _sentence_spans(text, _quoted(text)):
        sentence = text[start:end]
        key = _folded(sentence)
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(sentence)
    return "".join(kept)


def _sentences(text: str) -> list[_Sentence]:
    quoted = _quoted(text)
    sentences = []
    for start, end in _sentence_spans(text, quoted):
        own = "".join(ch for ch, q in zip(text[start:end], quoted[start:end], strict=True)
                      if not q)
        for piece in _QUESTION_BREAK.split(text[start:end]):
            bare = _LEADING_CONNECTOR.sub("", piece)
            if bare.strip():
                # The break falls outside quotes in practice; the piece's own words are those
                # of its sentence that it holds.
                mine = own if piece == text[start:end] else _without_quotes(bare)
                sentences.append(_Sentence(bare, mine, opened=bare != piece))
    return sentences


def _sentence_spans(text: str, quoted: list[bool]) -> list[tuple[int, int]]:
    """(start, end) of each sentence: cut after a sentence end or a line break outside
    quotes, and after an ellipsis a new sentence follows."""
    spans, start, i = [], 0, 0
    while i < len(text):
        end = None
        ellipsis = _ELLIPSIS.match(text, i)
        if ellipsis:
            i = ellipsis.end()
            if not quoted[ellipsis.start()] and i < len(text) and not _CARRIES_ON.match(text, i):
                end = i
        else:
            char, i = text[i], i + 1
            if char == "\n" or (char in _SENTENCE_ENDS and not quoted[i - 1]):
                end = i
        if end is not None:
            spans.append((start, end))
            start = end
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _quoted(text: str) -> list[bool]:
    """For each character, whether it stands between a pair of quotation marks. A mark
    without its pair quotes nothing, and a line break closes every quote."""
    quoted = [False] * len(text)
    stack: list[tuple[str, int]] = []  # (the closing mark awaited, where it opened)
    for i, char in enumerate(text):
        if char == "\n":
            stack.clear()
        elif stack and char == stack[-1][0]:
            _, opened = stack.pop()
            quoted[opened + 1:i] = [True] * (i - opened - 1)
        elif char in _QUOTE_PAIRS:
            stack.append((_QUOTE_PAIRS[char], i))
    return quoted


def _without_quotes(text: str) -> str:
    return "".join(ch for ch, q in zip(text, _quoted(text), strict=True) if not q)


def _folded(text: str) -> str:
    """The text's words only, normalised: equal for the same sentence however punctuated."""
    return "".join(ch for ch in normalize(text) if has_word_chars(ch))


def _asks(sentence: str) -> bool:
    return bool(_QUESTION_MARK.search(sentence)
                or _ASKS.search(_NOT_ASKING.sub("", sentence)))
