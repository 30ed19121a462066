"""Turn a file someone hands us (.txt .md .docx .html .pdf) into plain text, plus the metadata
printed in it: title, 文号, 发布日期 and issuing body.

Every failure — unknown type, empty file, undecodable bytes, a broken or scanned document — is an
`UnreadableSource` whose message is Chinese and can be shown to the user as it is.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from pathlib import Path
from typing import Callable, NamedTuple

import cn2an
import docx
import trafilatura
from docx.table import Table
from pydantic import BaseModel
from pypdf import PdfReader

MAX_BYTES = 50 * 1024 * 1024
SUPPORTED_HINT = "支持 .txt .md .docx .html .pdf"


class UnreadableSource(ValueError):
    """The file cannot become knowledge-base text; str(error) is a Chinese message for the user."""


class SourceText(BaseModel):
    text: str
    format: str
    title: str | None = None
    doc_number: str | None = None
    issued: dt.date | None = None
    issuer: str | None = None


# ---------------------------------------------------------------------------------------------
# metadata printed in the text

_HEAD_CHARS = 3000  # a notice's title, 文号 and issuer sit above the plan proper
_CJK = r"\u4e00-\u9fff"
_CN_DIGITS = "〇零一二三四五六七八九十"

_NOTICE_BRACKETED = re.compile(r"关于(?:印发|转发|发布)\s*《(?P<title>[^《》\n]{2,80})》")
_PRINTED_WITH = re.compile(r"《(?P<title>[^《》\n]{2,80})》[^。\n《]{0,30}印发")
_NOTICE_PLAIN = re.compile(
    r"关于(?:印发|转发|发布)(?P<title>[^《》。，,：:\n]{2,60}(?:\n[^《》。，,：:\n]{1,60})?)的通知")
_MARKDOWN_TITLE = re.compile(r"(?m)^#\s+(?P<title>\S.*?)\s*$")
_ENUMERATED = re.compile(rf"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|\d+[.．、]|第[{_CN_DIGITS}百]+[章节条])")

_DOC_NUMBER = (r"(?P<prefix>[%s]{1,12})\s*[〔\[［【(（]\s*(?P<year>(?:19|20)\d{2})\s*[〕\]］】)）]"
               r"\s*第?\s*(?P<num>\d{1,5})\s*号") % _CJK
_DOC_NUMBER_LABELED = re.compile(r"文\s*号\s*[：:]\s*" + _DOC_NUMBER)
_DOC_NUMBER_LINE = re.compile(r"(?m)^[ \t\u3000]*" + _DOC_NUMBER + r"(?=\s|$)")

_DATE_NUMERIC = r"(?P<y>(?:19|20)\d{2})\s*(?:年|-|/|\.)\s*(?P<m>\d{1,2})\s*(?:月|-|/|\.)\s*(?P<d>\d{1,2})\s*日?"
_DATE_ARABIC = r"(?P<y>(?:19|20)\d{2})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日?"
_DATE_HANZI = rf"(?P<y>[{_CN_DIGITS}]{{4}})年(?P<m>[{_CN_DIGITS}]{{1,2}})月(?P<d>[{_CN_DIGITS}]{{1,3}})日"
_DATE_LABEL = r"(?:成文日期|发布日期|发布时间|印发日期|发文日期|公布日期)\s*[：:]\s*"
_DATE_LABELED = re.compile(_DATE_LABEL + _DATE_NUMERIC)
_DATE_LINES = [re.compile(rf"(?m)^[ \t\u3000]*[(（]?{d}[)）]?[ \t\u3000]*$") for d in (_DATE_ARABIC, _DATE_HANZI)]
_ADOPTION_LINE = re.compile(rf"(?m)^[ \t\u3000]*[(（]?{_DATE_ARABIC}.*?(?:通过|修正|修订|公布)")

_ORG = rf"[{_CJK}]{{1,30}}(?:人民政府办公室|人民政府办公厅|人民政府|常务委员会|委员会|办公室|办公厅|局|厅|委|部|中心)"
_ISSUER_LABELED = re.compile(rf"(?:发布机构|发文机关|发文单位|发布单位|制发机关|信息来源|来源)\s*[：:]\s*(?P<org>{_ORG})(?![{_CJK}])")
_ISSUER_BEFORE_TITLE = re.compile(rf"(?m)^[ \t\u3000#]*(?P<org>{_ORG})\s*关于")
_ISSUER_LINE = re.compile(rf"(?m)^[ \t\u3000]*(?P<org>{_ORG})(?:文件)?[ \t\u3000]*$")
_LEGISLATURE = re.compile(rf"(?P<place>[{_CJK}]{{0,8}}?)第[{_CN_DIGITS}]+届(?P<body>全国人民代表大会|人民代表大会)(?P<standing>常务委员会)?")

# lines a browser-saved page carries around the text: location bar, print/close/share links, footers
_PAGE_CHROME = re.compile(
    r"^(?:您当前的位置|当前位置|网站支持IPv6|扫一扫|分享到|来源[：:]|责任编辑|发布时间[：:]|字号|【?打印|【?关闭|"
    r"相关文件[：:]?$|相关信息$|上一篇|下一篇|浏览次数|访问次数|网站标识码|主办单位|承办单位|版权所有|.*ICP备)")


def find_title(text: str) -> str | None:
    """The document's name: the 《…》 a notice issues, a markdown `# ` title, else the first heading-like line."""
    head = text[:_HEAD_CHARS]
    for pattern in (_NOTICE_BRACKETED, _PRINTED_WITH, _NOTICE_PLAIN):
        if match := pattern.search(head):
            return re.sub(r"\s+", "", match["title"])
    if match := _MARKDOWN_TITLE.search(head):
        return match["title"]
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    return next((line for line in lines[:30] if _looks_like_title(line)), None)


def _looks_like_title(line: str) -> bool:
    return (4 <= len(line) <= 60
            and line[-1] not in "。；;：:，,、！？!?"
            and not _ENUMERATED.match(line)
            and not _PAGE_CHROME.match(line)
            and not _ISSUER_LINE.fullmatch(line)
            and not _DOC_NUMBER_LINE.match(line)
            and not any(p.fullmatch(line) for p in _DATE_LINES))


def find_doc_number(text: str) -> str | None:
    """文号 such as 汴政办〔2023〕45号, labeled (文号：…) or on a line of its own; brackets normalised to 〔〕."""
    match = _DOC_NUMBER_LABELED.search(text) or _DOC_NUMBER_LINE.search(text)
    return f"{match['prefix']}〔{match['year']}〕{match['num']}号" if match else None


def find_issued(text: str) -> dt.date | None:
    """发布日期: a labeled date (发布时间:2023-12-15), else a date alone on a line (the signature), else
    the latest adoption/amendment date of a law's preamble."""
    if (date := _first_date(_DATE_LABELED.finditer(text))) is not None:
        return date
    for pattern in _DATE_LINES:
        if (date := _first_date(pattern.finditer(text))) is not None:
            return date
    dates = [d for m in _ADOPTION_LINE.finditer(text[:_HEAD_CHARS]) if (d := _to_date(m)) is not None]
    return max(dates, default=None)


def _first_date(matches) -> dt.date | None:
    return next((d for m in matches if (d := _to_date(m)) is not None), None)


def _to_date(match: re.Match) -> dt.date | None:
    try:
        year, month, day = (_hanzi_number(match[part]) for part in ("y", "m", "d"))
        return dt.date(year, month, day)
    except ValueError:
        return None


def _hanzi_number(value: str) -> int:
    if value.isdigit():
        return int(value)
    if "十" in value:
        return int(cn2an.cn2an(value, "normal"))
    return int("".join(str("〇一二三四五六七八九".index(ch.replace("零", "〇"))) for ch in value))


def find_issuer(text: str) -> str | None:
    """The issuing body: labeled (来源：/发文机关：), before 关于 in a notice title, alone on a line near
    the top or above the signature date, or the legislature that adopted a law."""
    head = text[:_HEAD_CHARS]
    for pattern in (_ISSUER_LABELED, _ISSUER_BEFORE_TITLE, _ISSUER_LINE):
        if match := pattern.search(head):
            return match["org"]
    if match := _LEGISLATURE.search(head):
        return ("" if match["body"] == "全国人民代表大会" else match["place"]) + match["body"] + (match["standing"] or "")
    match = _ISSUER_LINE.search(text)
    return match["org"] if match else None


# ---------------------------------------------------------------------------------------------
# formats


class _Read(NamedTuple):
    text: str
    page_title: str = ""  # a web page's own title (h1 / <title>), consulted before the text for the title
    page_text: str = ""  # the whole page's words, for metadata printed outside the main text


def _decode_text(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "gb18030"]  # strict UTF-8 first: GB18030 would accept most UTF-8 bytes too
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text or sum(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f" for ch in text) > len(text) // 100:
            raise UnreadableSource(f"无法读取：{name} 看起来不是文本文件（含有二进制内容）")
        return text
    raise UnreadableSource(f"无法读取：{name} 的文字编码无法识别（支持 UTF-8 和 GB18030/GBK 编码）")


def _read_text(data: bytes, name: str) -> _Read:
    return _Read(_decode_text(data, name))


def _read_docx(data: bytes, name: str) -> _Read:
    document = docx.Document(io.BytesIO(data))
    blocks = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            blocks.extend(_table_rows(block))
        else:
            blocks.append(block.text)
    return _Read("\n\n".join(b.strip() for b in blocks if b.strip()))


def _table_rows(table) -> list[str]:
    """One line per row, cells tab-separated; a merged cell is reported once, not once per grid column."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(" ".join(cell.text.split()))
        rows.append("\t".join(c for c in cells if c))
    return rows


# class/id words of page furniture on Chinese government sites (dqwz = 当前位置, xgxx = 相关信息, ewm = 二维码)
_FURNITURE_WORDS = {"nav", "navbar", "menu", "crumb", "crumbs", "breadcrumb", "position", "location", "locate", "dqwz", "wz",
                    "header", "head", "top", "topbar", "footer", "foot", "bottom", "copyright", "banner", "logo",
                    "share", "bdsharebuttonbox", "print", "toolbar", "tools", "related", "xgxx", "ewm", "qrcode",
                    "search", "sidebar"}
_FURNITURE_TAGS = ("nav", "header", "footer", "aside", "form", "iframe", "button", "select")
_CODE_TAGS = ("script", "style", "noscript", "template")
_LINK_LIST_TAGS = {"ul", "ol", "dl", "div", "td", "table"}
_BLOCK_TAGS = {"p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "section", "article"}


def _read_html(data: bytes, name: str) -> _Read:
    tree = trafilatura.load_html(data)
    if tree is None:
        raise UnreadableSource(f"无法读取：{name} 不是有效的网页文件")
    for element in list(tree.iter(*_CODE_TAGS)):
        element.drop_tree()
    page_text = " ".join(" ".join(tree.itertext()).split())  # the info bar (来源/发布时间/文号) lives outside the text
    page_title = trafilatura.extract_metadata(tree).title or ""
    _drop_furniture(tree, len(page_text))
    _unwrap_layout_tables(tree)
    extracted = trafilatura.extract(tree, include_comments=False, include_tables=True, favor_recall=True) or ""
    lines = [line.strip() for line in extracted.splitlines()]
    text = "\n\n".join(line for line in lines if line and not _PAGE_CHROME.match(line))
    return _Read(text, page_title, page_text)


def _drop_furniture(tree, page_chars: int) -> None:
    """Remove navigation, headers, footers, share and print bars before extraction: on short notices
    trafilatura otherwise falls back to the whole page. An element holding most of the page is kept."""
    for element in list(tree.iter(*_FURNITURE_TAGS)):
        element.drop_tree()
    for element in list(tree.iter()):
        if not isinstance(element.tag, str) or element.tag in ("html", "body") or element.getparent() is None:
            continue
        words = set(re.split(r"[^a-z0-9]+", f"{element.get('class', '')} {element.get('id', '')}".lower()))
        is_furniture = bool(words & _FURNITURE_WORDS) or (element.tag in _LINK_LIST_TAGS and _mostly_links(element))
        if is_furniture and len(element.text_content().strip()) < page_chars / 2:
            element.drop_tree()


def _mostly_links(element) -> bool:
    """Menus and link lists: nearly all of the block's text is link text."""
    text = "".join(element.text_content().split())
    linked = sum(len("".join(link.text_content().split())) for link in element.iter("a"))
    return bool(text) and linked >= 0.8 * len(text)


def _unwrap_layout_tables(tree) -> None:
    """Old government sites lay pages out with tables; a cell holding paragraphs is layout, not data."""
    for table in list(tree.iter("table")):
        cells = table.findall(".//td") + table.findall(".//th")
        if any(child.tag in _BLOCK_TAGS for cell in cells for child in cell):
            for element in [table, *table.iter("tbody", "thead", "tr", "td", "th")]:
                element.tag = "div"


def _read_pdf(data: bytes, name: str) -> _Read:
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise UnreadableSource(f"无法读取：{name} 是加密的 PDF，请先解除密码保护")
    text = _reflow([page.extract_text() or "" for page in reader.pages])
    if not text.strip():
        raise UnreadableSource(f"无法读取：{name} 中没有可提取的文字（可能是扫描件，请先做文字识别）")
    return _Read(text)


_PAGE_NUMBER = re.compile(r"^[—\-－–\s]*\d{1,4}[—\-－–\s]*$|^第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?$")
_PARAGRAPH_END = "。；;：:！？!?）)”」"
_MIN_FULL_LINE = 15  # CJK characters; an official A4 page prints 28 a line


def _reflow(pages: list[str]) -> str:
    """PDF text comes as printed lines: a line that runs to the right margin continues in the next one,
    also across a page break. The margin is the document's longest line; short lines never run on."""
    lines = [line.strip() for page in pages for line in page.splitlines()]
    lines = [line for line in lines if line and not _PAGE_NUMBER.match(line)]
    full_width = max(_MIN_FULL_LINE, 0.85 * max((_display_width(line) for line in lines), default=0))
    paragraphs: list[str] = []
    joining = False
    for line in lines:
        if joining:
            paragraphs[-1] += line
        else:
            paragraphs.append(line)
        joining = _display_width(line) >= full_width and line[-1] not in _PARAGRAPH_END
    return "\n\n".join(paragraphs)


def _display_width(line: str) -> float:
    return sum(1 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in line)


_READERS: dict[str, tuple[str, str, Callable[[bytes, str], _Read]]] = {
    ".txt": ("txt", "文本", _read_text),
    ".md": ("md", "Markdown", _read_text),
    ".docx": ("docx", "Word（.docx）", _read_docx),
    ".html": ("html", "网页", _read_html),
    ".htm": ("html", "网页", _read_html),
    ".pdf": ("pdf", "PDF", _read_pdf),
}


def read_source(path: Path) -> SourceText:
    """Read one source file into text and the metadata it prints; raises UnreadableSource otherwise."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        hint = "（.doc 请先另存为 .docx）" if suffix == ".doc" else ""
        raise UnreadableSource(f"无法读取：不支持的文件类型 {suffix or '（无扩展名）'}（{SUPPORTED_HINT}）{hint}")
    fmt, kind, reader = _READERS[suffix]
    data = _read_bytes(path)
    try:
        read = reader(data, path.name)
    except UnreadableSource:
        raise
    except Exception as error:  # any parser failure on bad bytes is the file's fault, not ours
        raise UnreadableSource(f"无法读取：{path.name} 不是有效的{kind}文件（{type(error).__name__}）") from error
    text = _tidy(read.text)
    if not text:
        raise UnreadableSource(f"无法读取：{path.name} 中没有文字内容")
    titled = "\n\n".join(filter(None, [read.page_title.strip(), text]))
    context = [titled, read.page_text]
    return SourceText(
        text=text, format=fmt,
        title=find_title(titled),
        doc_number=_first_found(find_doc_number, context),
        issued=_first_found(find_issued, context),
        issuer=_first_found(find_issuer, context),
    )


def _read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UnreadableSource(f"无法读取：{path.name} 超过 {MAX_BYTES // 1024 // 1024} MB")
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableSource(f"无法读取：找不到文件 {path.name}") from None
    except OSError as error:
        raise UnreadableSource(f"无法读取：{path.name} 无法打开（{type(error).__name__}）") from error
    if not data.strip():
        raise UnreadableSource(f"无法读取：{path.name} 是空文件")
    return data


def _first_found(finder, texts: list[str]):
    return next((found for text in texts if (found := finder(text)) is not None), None)


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").replace("\u200b", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
