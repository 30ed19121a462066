"""jieba's dictionary, with the lexicon's words added, kept as an SQLite file that a process reads word by word.

Before its first cut jieba loads its whole prefix dictionary (about 500,000 words and word prefixes, from a marshal
cache): a second or more, most of a one-shot question's start-up. Cutting a question looks up a few hundred of
them, which SQLite serves in milliseconds. Cuts are the same: jieba reads the same frequencies and total.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

import jieba

FORMAT = "2"  # of the file; part of its name (2: word classes)

log = logging.getLogger(__name__)


class PrefixDictionary:
    """Word -> frequency (0 for a mere prefix of a word) as jieba.Tokenizer reads its FREQ, looked up in SQLite
    and remembered."""

    def __init__(self, path: Path):
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"  # never written once in place: no locking needed
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()  # one connection shared by the threads that answer
        self._seen: dict[str, int | None] = {}
        self.total: int = self._db.execute("SELECT total FROM total").fetchone()[0]

    def get(self, word: str, default: int | None = None) -> int | None:
        try:
            freq = self._seen[word]
        except KeyError:
            with self._lock:
                row = self._db.execute("SELECT freq FROM words WHERE word = ?", (word,)).fetchone()
            freq = self._seen[word] = row[0] if row else None
        return default if freq is None else freq

    def load_all(self) -> None:
        """Read every word into memory (about half a second), so that no later lookup touches the file: for a
        process that answers many questions, in the background."""
        with self._lock:
            rows = self._db.execute("SELECT word, freq FROM words").fetchall()
        seen = dict(rows)
        seen.update(self._seen)
        self._seen = seen

    def word_class(self, word: str) -> str | None:
        """jieba's part-of-speech tag of a word of its dictionary (n, v …), None for others."""
        with self._lock:
            row = self._db.execute("SELECT tag FROM tags WHERE word = ?", (word,)).fetchone()
        return row[0] if row else None

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        freq = self.get(word)
        if freq is None:
            raise KeyError(word)
        return freq


def make_tokenizer(words: list[tuple[str, int]], cache_folder: Path | None = None) -> jieba.Tokenizer:
    """A jieba tokenizer with `words` (word, frequency) added; with `cache_folder`, its dictionary read from a file
    there.

    The file is named after jieba's version and the words, so a changed lexicon makes a new one; the first
    process without it loads jieba's whole dictionary as usual and writes the file (about a second more)."""
    tokenizer = jieba.Tokenizer()
    path = _cache_file(Path(cache_folder), words) if cache_folder is not None else None
    if path is not None and path.exists():
        try:
            tokenizer.FREQ = PrefixDictionary(path)
            tokenizer.total = tokenizer.FREQ.total
            tokenizer.initialized = True  # jieba would otherwise load its whole dictionary over ours
            return tokenizer
        except sqlite3.Error as exc:
            log.warning("jieba 词典缓存 %s 无法读取，重新生成：%s", path, exc)
    for word, freq in words:
        tokenizer.add_word(word, freq=freq)  # loads jieba's whole dictionary first
    if path is not None:
        try:
            _write(path, tokenizer.FREQ, tokenizer.total, dictionary_classes(tokenizer))
        except (OSError, sqlite3.Error) as exc:  # this process has the dictionary in memory either way
            log.warning("未能写入 jieba 词典缓存 %s：%s", path, exc)
    return tokenizer


def _cache_file(folder: Path, words: list[tuple[str, int]]) -> Path:
    digest = hashlib.sha256(f"{FORMAT}\0{jieba.__version__}".encode("utf-8"))
    for word, freq in words:
        digest.update(f"\0{word}\0{freq}".encode("utf-8"))
    return folder / f"jieba-{digest.hexdigest()[:16]}.sqlite"


def dictionary_classes(tokenizer: jieba.Tokenizer) -> dict[str, str]:
    """Word -> part-of-speech tag, from the lines of jieba's dictionary file (word, frequency, tag)."""
    with tokenizer.get_dict_file() as handle:
        lines = handle.read().decode("utf-8").splitlines()
    return dict(parts[::2] for parts in (line.split() for line in lines) if len(parts) == 3)


def _write(path: Path, freq: dict[str, int], total: int, classes: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pending = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    pending.unlink(missing_ok=True)
    db = sqlite3.connect(pending)
    try:
        db.execute("PRAGMA journal_mode = OFF")  # a new private file: renamed into place only once complete
        db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, freq INTEGER NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT INTO words VALUES (?, ?)", sorted(freq.items()))  # in key order: appends to the tree
        db.execute("CREATE TABLE tags (word TEXT PRIMARY KEY, tag TEXT NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT INTO tags VALUES (?, ?)", sorted(classes.items()))
        db.execute("CREATE TABLE total (total INTEGER NOT NULL)")
        db.execute("INSERT INTO total VALUES (?)", (total,))
        db.commit()
    finally:
        db.close()
    os.replace(pending, path)
    for other in path.parent.glob("jieba-*.sqlite"):  # made for an earlier lexicon
        if other != path:
            other.unlink(missing_ok=True)
