"""ingest.readers: every format read from a fixture built here, metadata found, bad input rejected in Chinese."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import docx
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

from ingest.readers import UnreadableSource, find_doc_number, find_issued, find_issuer, find_title, read_source
from kbase.store.sources import load_manifest

CORPUS = Path(__file__).resolve().parents[2] / "kbase" / "corpus"

TITLE = "开封市扬尘污染防治攻坚行动方案(2024—2025年)"
LONG_PARAGRAPH = ("坚持以习近平新时代中国特色社会主义思想为指导，深入践行习近平生态文明思想，坚持精准治污、科学治污、依法治污，"
                  "以改善环境空气质量为核心，突出重点区域、重点时段、重点行业，强化措施、压实责任，推动全市空气质量持续改善。")
TASK = "1.推进重点行业超低排放改造。2024年年底前完成砖瓦窑、碳素行业改造，优良天数比例达到70%以上。(市生态环境局牵头,市公安局、财政局配合,各县区政府负责落实)"
NOTICE = [
    "开封市人民政府办公室",
    f"关于印发《{TITLE}》的通知",
    "汴政办〔2024〕12号",
    "各县、区人民政府，市人民政府各部门：",
    f"现将《{TITLE}》印发给你们，请认真贯彻执行。",
    "2024年3月8日",
    TITLE,
    "一、总体要求",
    LONG_PARAGRAPH,
    "二、重点任务",
    TASK,
]


def assert_notice_metadata(source):
    assert source.title == TITLE
    assert source.doc_number == "汴政办〔2024〕12号"
    assert source.issued == dt.date(2024, 3, 8)
    assert source.issuer == "开封市人民政府办公室"


def assert_rejected(path: Path, *fragments: str):
    with pytest.raises(UnreadableSource) as caught:
        read_source(path)
    message = str(caught.value)
    assert message.startswith("无法读取：")
    for fragment in fragments:
        assert fragment in message


# ------------------------------------------------------------------------------------------ text


def test_utf8_text_keeps_paragraphs_and_finds_metadata(tmp_path):
    path = tmp_path / "notice.txt"
    path.write_text("\r\n\r\n".join(NOTICE) + "\r\n", encoding="utf-8")
    source = read_source(path)
    assert source.format == "txt"
    assert source.text == "\n\n".join(NOTICE)
    assert_notice_metadata(source)


def test_utf8_with_bom_loses_the_bom(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\n".join(NOTICE).encode("utf-8-sig"))
    source = read_source(path)
    assert source.text.startswith("开封市人民政府办公室")
    assert_notice_metadata(source)


def test_gb18030_text_is_decoded(tmp_path):
    text = "\n\n".join(NOTICE) + "\n\n生僻字𠀀与镕、喆也能读出。"
    path = tmp_path / "gbk.txt"
    path.write_bytes(text.encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    source = read_source(path)
    assert source.text == text
    assert_notice_metadata(source)


def test_markdown_title_and_law_preamble(tmp_path):
    path = tmp_path / "law.md"
    path.write_text("# 中华人民共和国示例保护法\n\n"
                    "2014年4月24日 第十二届全国人民代表大会常务委员会第八次会议修订\n\n"
                    "2018年10月26日 第十三届全国人民代表大会常务委员会第六次会议修正\n\n"
                    "## 第一章 总则\n\n第一条 为了保护和改善环境，制定本法。\n", encoding="utf-8")
    source = read_source(path)
    assert source.format == "md"
    assert source.title == "中华人民共和国示例保护法"
    assert source.issued == dt.date(2018, 10, 26)
    assert source.issuer == "全国人民代表大会常务委员会"
    assert "第一条 为了保护和改善环境，制定本法。" in source.text


def test_bundled_corpus_metadata_is_found_in_the_texts():
    # the reader dates a text by its latest adoption or amendment; a manifest may keep that as `amended`
    for meta in load_manifest(CORPUS):
        source = read_source(CORPUS / meta.file)
        assert (source.title, source.doc_number, source.issued, source.issuer) == \
            (meta.title, meta.doc_number, meta.amended or meta.issued, meta.issuer), meta.id


# ------------------------------------------------------------------------------------------ docx


def test_docx_paragraphs_and_tables(tmp_path):
    document = docx.Document()
    for line in NOTICE[:7]:
        document.add_paragraph(line)
    document.add_heading("一、总体要求", level=1)
    document.add_paragraph(LONG_PARAGRAPH)
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("序号", "任务", "牵头单位")):
        cell.text = text
    table.cell(1, 0).text = "1"
    merged = table.cell(1, 1).merge(table.cell(1, 2))
    merged.text = "推进超低排放改造（市生态环境局）"
    document.add_paragraph("")
    document.add_paragraph("二、重点任务")
    path = tmp_path / "plan.docx"
    document.save(path)

    source = read_source(path)
    assert source.format == "docx"
    paragraphs = source.text.split("\n\n")
    assert paragraphs[:7] == NOTICE[:7]
    assert paragraphs[7:] == ["一、总体要求", LONG_PARAGRAPH, "序号\t任务\t牵头单位", "1\t推进超低排放改造（市生态环境局）",
                              "二、重点任务"]
    assert_notice_metadata(source)


# ------------------------------------------------------------------------------------------ html

NOISE = ["网站支持IPv6", "无障碍浏览", "政务公开", "您当前的位置", "打印本页", "关闭窗口", "分享到", "扫一扫", "相关信息",
         "网站标识码", "豫ICP备", "主办单位", "_hmt", "font-size", "开封市国土空间总体规划"]


def gov_page(main_html: str, *, charset: str = "utf-8", info: str = "来源：开封市人民政府办公室 发布时间：2024-03-09") -> str:
    return f"""<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>通知_开封市人民政府</title>
<style>.nav {{ font-size: 14px }}</style>
<script>var _hmt = _hmt || []; (function() {{ var hm = document.createElement("script"); }})();</script>
</head><body>
<div class="top"><span>网站支持IPv6</span> <a href="#">无障碍浏览</a></div>
<div class="header"><img src="logo.png" alt="开封市人民政府"><form><input name="q"><button>搜索</button></form></div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li><li><a href="/hd">互动交流</a></li></ul>
<div class="position">您当前的位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; 政府文件</div>
<div class="article">
<div class="info">{info} <a href="javascript:window.print()">【打印本页】</a></div>
{main_html}
<div class="share">分享到：<a>微信</a> <a>微博</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
<div class="ewm">扫一扫在手机打开当前页</div>
</div>
<div class="related"><h3>相关信息</h3><ul><li><a href="/a">开封市国土空间总体规划（2021—2035年）</a></li></ul></div>
<div class="footer"><p>主办单位：开封市人民政府办公室</p><p>网站标识码：4102000001 豫ICP备05003224号</p></div>
</body></html>"""


def assert_clean(text: str, paragraphs: list[str]):
    assert text.split("\n\n") == paragraphs
    for noise in NOISE:
        assert noise not in text, noise


def test_html_page_keeps_the_text_and_drops_the_furniture(tmp_path):
    main = "<div id='zoom' class='TRS_Editor'>" + "".join(f"<p>{line}</p>" for line in NOTICE) + "</div>"
    path = tmp_path / "page.html"
    path.write_text(gov_page(main), encoding="utf-8")
    source = read_source(path)
    assert source.format == "html"
    assert_clean(source.text, NOTICE)
    assert_notice_metadata(source)


def test_short_html_notice_with_br_breaks(tmp_path):
    """A short page is where extractors give up and return the whole page; the furniture must still go."""
    lines = ["各县区生态环境分局：", "为做好2024年六五环境日宣传工作，现将有关事项通知如下。", "一、活动时间", "2024年6月5日前后。"]
    main = "<h1>关于开展2024年环境日宣传活动的通知</h1><div class='con'>" + "<br>".join(lines) + "</div>"
    path = tmp_path / "short.htm"
    path.write_text(gov_page(main, info="发布时间：2024-05-20 文号：汴环〔2024〕7号"), encoding="utf-8")
    source = read_source(path)
    assert_clean(source.text, ["关于开展2024年环境日宣传活动的通知", *lines])
    assert source.title == "关于开展2024年环境日宣传活动的通知"
    assert source.issued == dt.date(2024, 5, 20)
    assert source.doc_number == "汴环〔2024〕7号"


def test_html_table_layout_and_gbk_encoding(tmp_path):
    articles = ["第一条 为了防治扬尘污染，保护和改善大气环境质量，制定本办法。", "第二条 本办法适用于本市行政区域内扬尘污染防治活动。",
                "第三条 市生态环境局对扬尘污染防治实施统一监督管理。"]
    main = ("<table><tr><td class='left'><ul><li><a>机构设置</a></li></ul></td><td>"
            + "".join(f"<p>{line}</p>" for line in articles) + "</td></tr></table>")
    path = tmp_path / "gbk.html"
    path.write_bytes(gov_page(main, charset="gb2312").encode("gb18030"))
    source = read_source(path)
    assert_clean(source.text, articles)


# ------------------------------------------------------------------------------------------ pdf


@pytest.fixture(scope="module")
def cjk_style():
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return ParagraphStyle("cjk", fontName="STSong-Light", fontSize=12, leading=18, wordWrap="CJK")


def test_pdf_text_is_reflowed_into_paragraphs(tmp_path, cjk_style):
    path = tmp_path / "plan.pdf"
    story = [Paragraph(NOTICE[0], cjk_style), PageBreak()] + [Paragraph(line, cjk_style) for line in NOTICE[1:9]]
    story += [Paragraph("— 1 —", cjk_style), PageBreak(), Paragraph(NOTICE[9], cjk_style), Paragraph(TASK, cjk_style)]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    source = read_source(path)
    assert source.format == "pdf"
    assert source.text.split("\n\n") == NOTICE
    assert_notice_metadata(source)


def test_pdf_without_text_is_rejected(tmp_path):
    path = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(path), pagesize=A4)
    page.rect(100, 100, 300, 400, fill=1)
    page.save()
    assert_rejected(path, "scan.pdf", "没有可提取的文字")


# ------------------------------------------------------------------------------------------ rejections


@pytest.mark.parametrize("name, data, fragments", [
    ("table.xls", b"\xd0\xcf\x11\xe0 old excel", ["不支持的文件类型 .xls", ".txt .md .docx .html .pdf"]),
    ("old.doc", b"\xd0\xcf\x11\xe0 old word", ["不支持的文件类型 .doc", "另存为 .docx"]),
    ("README", b"no extension", ["不支持的文件类型", "无扩展名"]),
    ("empty.txt", b"", ["empty.txt", "空文件"]),
    ("blank.md", b"  \n\t\r\n   \n", ["blank.md", "空文件"]),
    ("wide-blank.txt", "\u3000\u3000\n\u3000".encode("utf-8"), ["没有文字内容"]),
    ("bytes.txt", b"\x80\x81\xff\xfe\x80" * 20, ["bytes.txt", "编码无法识别"]),
    ("binary.txt", b"PK\x03\x04\x00\x00\x08\x00" * 10, ["不是文本文件"]),
    ("broken.docx", b"this is not a zip archive", ["broken.docx", "不是有效的Word"]),
    ("broken.pdf", b"%PDF-1.4 garbage without objects", ["broken.pdf", "PDF"]),
    ("nothing.html", b"<html><head><title>x</title><script>var a=1;</script></head><body>  </body></html>", ["没有文字内容"]),
])
def test_bad_input_is_rejected_with_a_chinese_message(tmp_path, name, data, fragments):
    path = tmp_path / name
    path.write_bytes(data)
    assert_rejected(path, *fragments)


def test_missing_file_and_directory_are_rejected(tmp_path):
    assert_rejected(tmp_path / "gone.txt", "找不到文件 gone.txt")
    (tmp_path / "folder.txt").mkdir()
    assert_rejected(tmp_path / "folder.txt", "folder.txt")


# ------------------------------------------------------------------------------------------ finders


@pytest.mark.parametrize("text, expected", [
    ("汴政办〔2023〕45号\n", "汴政办〔2023〕45号"),
    ("  汴政办[2023]45号", "汴政办〔2023〕45号"),
    ("发布时间：2023-12-15  文  号：豫政办【2023】 7 号", "豫政办〔2023〕7号"),
    ("根据国办发〔2021〕33号文件精神，制定本方案。", None),
    ("第一条 为了保护环境，制定本法。", None),
])
def test_find_doc_number(text, expected):
    assert find_doc_number(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("来源：市政府 发布时间:2023-12-15", dt.date(2023, 12, 15)),
    ("成文日期：2023年12月5日\n\n2024年1月1日", dt.date(2023, 12, 5)),
    ("开封市人民政府办公室\n2023年12月15日\n", dt.date(2023, 12, 15)),
    ("开封市人民政府办公室\n2023年12月15\n", dt.date(2023, 12, 15)),
    ("二〇二三年十二月三十一日", dt.date(2023, 12, 31)),
    ("到2025年12月31日前完成全部改造。", None),
    ("2023年2月30日", None),
])
def test_find_issued(text, expected):
    assert find_issued(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("开封市人民政府办公室\n关于印发开封市推动生态环境质量稳定向好三年\n行动方案(2023—2025年)的通知",
     "开封市推动生态环境质量稳定向好三年行动方案(2023—2025年)"),
    ("开封市人民政府关于印发《开封市碳达峰实施方案》的通知", "开封市碳达峰实施方案"),
    ("各县区：\n现将《开封市秋冬季攻坚方案》印发给你们，请认真执行。", "开封市秋冬季攻坚方案"),
    ("# 中华人民共和国环境保护法\n\n第一条 …", "中华人民共和国环境保护法"),
    ("开封市生态环境局\n汴环〔2024〕3号\n2024年1月2日\n开封市2024年夏季臭氧污染防治方案\n一、目标", "开封市2024年夏季臭氧污染防治方案"),
    ("一、总体要求\n为了……制定本方案。", None),
])
def test_find_title(text, expected):
    assert find_title(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("来源：开封市生态环境局 责任编辑：王五", "开封市生态环境局"),
    ("开封市人民政府办公室关于印发《X方案》的通知", "开封市人民政府办公室"),
    ("开封市人民政府办公室文件\n汴政办〔2023〕1号", "开封市人民政府办公室"),
    ("2018年8月31日 第十三届全国人民代表大会常务委员会第五次会议通过", "全国人民代表大会常务委员会"),
    ("2019年3月29日 河南省第十三届人民代表大会常务委员会第九次会议通过", "河南省人民代表大会常务委员会"),
    ("一、总体要求\n推进工作。", None),
])
def test_find_issuer(text, expected):
    assert find_issuer(text) == expected



def test_damaged_files_never_escape_as_other_errors(tmp_path, cjk_style):
    """Truncated and bit-flipped copies of good files either read or raise UnreadableSource."""
    good = {}
    SimpleDocTemplate(str(tmp_path / "good.pdf"), pagesize=A4).build([Paragraph(line, cjk_style) for line in NOTICE])
    good[".pdf"] = (tmp_path / "good.pdf").read_bytes()
    document = docx.Document()
    document.add_paragraph(LONG_PARAGRAPH)
    document.save(tmp_path / "good.docx")
    good[".docx"] = (tmp_path / "good.docx").read_bytes()
    good[".html"] = gov_page("<p>" + LONG_PARAGRAPH + "</p>").encode("utf-8")
    good[".txt"] = LONG_PARAGRAPH.encode("gb18030")
    rng = random.Random(0)
    for suffix, data in good.items():
        for case in range(12):
            damaged = bytearray(data[:rng.randint(1, len(data))] if case % 2 else data)
            for _ in range(rng.randint(1, 30)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            path = tmp_path / f"damaged-{case}{suffix}"
            path.write_bytes(bytes(damaged))
            try:
                assert read_source(path).text
            except UnreadableSource as error:
                assert str(error).startswith("无法读取：")
