"""jieba's dictionary kept in an SQLite file: the same cuts, a new file for new words."""
from __future__ import annotations

from ingest.dictionary_cache import PrefixDictionary, make_tokenizer
from kbase.settings import BUNDLED_CORPUS

WORDS = [("市生态环境局", 200000), ("细颗粒物", 200000), ("优良天数", 200000)]
QUESTIONS = ["开封PM2.5要降到多少？", "市生态环境局牵头的任务有哪些", "施工单位未采取防尘措施的罚多少钱",
             "What is the PM2.5 target for 2025?", "臭氧和氮氧化物协同减排", "空气好的天数比例"]


def test_the_file_tokenizer_cuts_as_jieba_does_and_follows_the_words(tmp_path):
    plain = make_tokenizer(WORDS)  # jieba's own dictionary, all in memory
    plan = (BUNDLED_CORPUS / "kaifeng-eco-plan-2023-2025.txt").read_text(encoding="utf-8")
    texts = QUESTIONS + plan.splitlines()[:200]

    writer = make_tokenizer(WORDS, tmp_path)  # the first process: jieba's dictionary in memory, file written
    files = list(tmp_path.glob("jieba-*.sqlite"))
    assert len(files) == 1 and not isinstance(writer.FREQ, PrefixDictionary)
    reader = make_tokenizer(WORDS, tmp_path)  # the next ones read the file
    assert isinstance(reader.FREQ, PrefixDictionary) and reader.total == plain.total
    for text in texts:
        assert reader.lcut_for_search(text) == plain.lcut_for_search(text) == writer.lcut_for_search(text), text

    more = make_tokenizer([*WORDS, ("协同减排", 200000)], tmp_path)
    assert "协同减排" in more.lcut("臭氧和氮氧化物协同减排")
    remaining = list(tmp_path.glob("jieba-*"))
    assert len(remaining) == 1 and remaining != files  # replaced, not added


def test_an_unreadable_file_is_made_again(tmp_path):
    make_tokenizer(WORDS, tmp_path)
    [path] = tmp_path.glob("jieba-*.sqlite")
    path.write_bytes(b"not a database")
    tokenizer = make_tokenizer(WORDS, tmp_path)
    assert tokenizer.lcut("市生态环境局") == ["市生态环境局"]
    assert isinstance(make_tokenizer(WORDS, tmp_path).FREQ, PrefixDictionary)
