"""Synthetic plan- and law-shaped Chinese documents, for benchmarks at many times the bundled corpus.

The documents copy the shapes of kbase/corpus: plans with a notice, 一、/(一)/1. headings, role
parentheses, deadlines and targets; laws in markdown with an adoption preamble, `## 第X章`,
`### 第X节` and `第X条` articles. Vocabulary (departments, pollutants, places, years, numbers) is drawn
from per-topic pools with Zipf-like weights, so term statistics look like real policy text rather than
uniform noise. Document i depends only on (seed, i): a larger scale extends a smaller one.
"""
from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

import cn2an

from ingest.model import DocMeta

BUNDLED_CORPUS_BYTES = 217_429  # the seven documents of kbase/corpus, in UTF-8 bytes; scale 1 ≈ this much text
PLAN_SHARE = 0.5  # of documents after the first two (one plan, one law)
LATEST_REVISION = dt.date(2025, 6, 30)


class Pool:
    """Words drawn with weight 1/rank, the way real text reuses a few terms a lot and most rarely."""

    def __init__(self, *items: str):
        self.items = items
        self.cum_weights = list(accumulate(1 / rank for rank in range(1, len(items) + 1)))

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.items, cum_weights=self.cum_weights)[0]

    def some(self, rng: random.Random, low: int, high: int) -> list[str]:
        wanted = min(rng.randint(low, high), len(self.items))
        chosen: list[str] = []
        while len(chosen) < wanted:
            if (item := self.pick(rng)) not in chosen:
                chosen.append(item)
        return chosen


@dataclass(frozen=True)
class Target:
    metric: str
    unit: str
    comparator: str  # 以上 / 以下 / 下降
    low: float
    high: float
    decimals: int = 0


@dataclass(frozen=True)
class Theme:
    field: str  # 大气污染防治
    medium: str  # 大气环境
    plan_topics: Pool
    groups: Pool  # (一)…行动
    objects: Pool  # what a task pushes forward
    places: Pool
    pollutants: Pool
    targets: tuple[Target, ...]
    law_topics: Pool
    chapters: tuple[str, ...]
    sections: tuple[str, ...]
    duties: Pool  # what a regulated party 应当 do
    violations: Pool


VOCABULARY = Path(__file__).resolve().parent / "data" / "synth_vocabulary.json"

_POOLS = {"plan_topics", "groups", "objects", "places", "pollutants", "law_topics", "duties", "violations"}


def _theme(raw: dict) -> Theme:
    fields = {name: Pool(*value) if name in _POOLS else tuple(value) if isinstance(value, list) else value
              for name, value in raw.items() if name != "targets"}
    return Theme(**fields, targets=tuple(Target(**t) for t in raw["targets"]))


_WORDS = json.loads(VOCABULARY.read_text(encoding="utf-8"))
THEMES = tuple(_theme(raw) for raw in _WORDS["themes"])
CITIES = tuple(tuple(pair) for pair in _WORDS["cities"])
PROVINCES, DEPARTMENTS, COUNTIES, LAW_DEPARTMENTS, SUBJECTS, VERBS = (
    Pool(*_WORDS[key]) for key in ("provinces", "departments", "counties", "law_departments", "subjects", "verbs"))
SAFEGUARDS = tuple(tuple(pair) for pair in _WORDS["safeguards"])


def generate_corpus(out_dir: Path, scale: float, seed: int = 0) -> list[DocMeta]:
    """Write about `scale` times the bundled corpus's bytes of synthetic documents, plus manifest.json."""
    if not scale > 0:
        raise ValueError("scale must be positive")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted_bytes = scale * BUNDLED_CORPUS_BYTES
    metas: list[DocMeta] = []
    titles: set[str] = set()
    written = 0
    while written < wanted_bytes:
        rng = random.Random(f"policybot-synth:{seed}:{len(metas)}")
        is_plan = len(metas) == 0 or (len(metas) > 1 and rng.random() < PLAN_SHARE)
        meta, text = (_plan if is_plan else _law)(rng, len(metas), titles)
        data = text.encode("utf-8")
        (out_dir / meta.file).write_bytes(data)
        metas.append(meta)
        titles.add(meta.title)
        written += len(data)
    manifest = {"_about": f"Synthetic documents from kbase.bench.synth (scale={scale}, seed={seed}); not real policy.",
                "documents": [meta.model_dump(mode="json") for meta in metas]}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return metas


def _unique(titles: set[str], make) -> str:
    for _ in range(50):
        if (title := make()) not in titles:
            return title
    return f"{title}(合成{len(titles)})"  # the title space is spent only far beyond 100x


def _date(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, rng.randint(1, 12), rng.randint(1, 28))


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# ---------------------------------------------------------------------------------------------- plans


@dataclass
class _PlanStyle:
    """Punctuation differs between plans: the bundled one prints ASCII , : ( ), many print full width."""

    comma: str
    colon: str
    left: str
    right: str

    def paren(self, text: str) -> str:
        return f"{self.left}{text}{self.right}"


def _plan(rng: random.Random, index: int, titles: set[str]) -> tuple[DocMeta, str]:
    theme = rng.choice(THEMES)
    city, abbr = rng.choice(CITIES)
    start = rng.randint(2018, 2025)
    end = start + rng.choice((2, 2, 3, 4))
    title = _unique(titles, lambda: f"{city}市{theme.plan_topics.pick(rng)}"
                    f"{rng.choice(('三年行动方案', '攻坚行动方案', '实施方案', '工作方案', '专项整治方案'))}({start}—{end}年)")
    issued = _date(rng, start)
    issuer = f"{city}市人民政府办公室"
    doc_number = f"{abbr}政办〔{issued.year}〕{rng.randint(1, 120)}号" if rng.random() < 0.7 else None
    internal = rng.random() < 0.2
    style = _PlanStyle(",", ":", "(", ")") if rng.random() < 0.6 else _PlanStyle("，", "：", "（", "）")
    c = style.comma

    blocks = [issuer, f"关于印发{title}的通知"]
    if doc_number:
        blocks.append(doc_number)
    blocks += [f"各县、区人民政府{c}市人民政府各部门及有关单位{style.colon}",
               f"《{title}》已经市委、市政府同意{c}现印发给你们{c}请认真遵照执行。",
               _cn_date(issued), style.paren("此件不公开" if internal else "此件公开发布"), title,
               f"为深入贯彻落实党中央、国务院和省委、省政府关于{theme.field}工作的决策部署{c}推动全市{theme.medium}质量持续改善"
               f"{c}结合我市实际{c}制定本方案。",
               "一、总体要求",
               f"坚持以习近平新时代中国特色社会主义思想为指导{c}深入践行习近平生态文明思想{c}坚持精准治污、科学治污、依法治污"
               f"{c}以{theme.medium}质量改善为核心{c}统筹推进{theme.objects.pick(rng)}和{theme.objects.pick(rng)}"
               f"{c}努力建设人与自然和谐共生的美丽{city}。",
               "二、主要目标",
               f"到{end}年{c}" + c.join(_target(target, rng, end) for target in _some(rng, theme.targets, 3, 5)) + "。",
               "三、重点任务"]
    task = 0
    for group_number, group in enumerate(theme.groups.some(rng, 3, 7), start=1):
        blocks.append(f"{style.paren(_cn(group_number))}{group}")
        for _ in range(rng.randint(2, 7)):
            task += 1
            blocks.append(_task(rng, theme, style, task, start, end))
    blocks.append("四、保障措施")
    for number, (heading, body) in enumerate(rng.sample(SAFEGUARDS, 4), start=1):
        blocks.append(f"{style.paren(_cn(number))}{heading}。{body.replace(',', c)}。")
    meta = DocMeta(id=f"synth-plan-{index:05d}", title=title, file=f"synth-plan-{index:05d}.txt", issuer=issuer,
                   doc_number=doc_number, issued=issued, effective=issued, expires=dt.date(end, 12, 31), kind="plan",
                   visibility="internal" if internal else "public",
                   source="kbase.bench.synth 合成文档" + ("(内部)" if internal else ""))
    return meta, "\n\n".join(blocks) + "\n"


def _task(rng: random.Random, theme: Theme, style: _PlanStyle, number: int, start: int, end: int) -> str:
    c = style.comma
    obj = theme.objects.pick(rng)
    place, pollutant = theme.places.pick(rng), theme.pollutants.pick(rng)
    year = rng.randint(start, end)
    sentences = [
        f"{year}年年底前{c}完成{place}{obj}",
        f"{year}年{rng.randint(3, 11)}月底前{c}{VERBS.pick(rng)}{obj}{rng.randint(2, 60)}项以上",
        f"到{year}年{c}{_target(rng.choice(theme.targets), rng, year)}",
        f"严格执行{pollutant}排放标准{c}加强{place}日常监管{c}对超标排放企业依法依规查处",
        f"建立{obj}工作台账{c}实行清单化管理、销号式推进",
        f"统筹中央和省级专项资金{c}保障{obj}项目建设{c}{year}年起每年安排资金不少于{rng.randint(500, 5000)}万元",
        f"开展{place}{pollutant}专项执法检查{c}严厉打击偷排漏排、超标排放等违法行为",
        f"{year}年起{c}全市新建项目全部执行{pollutant}特别排放限值",
        f"推动{place}{obj}{c}实现{pollutant}排放量较{start - 1}年下降{rng.randint(5, 30)}%",
        f"各县区要结合实际制定实施方案{c}明确责任单位和完成时限",
        f"充分运用在线监测、无人机巡查等手段{c}提升{place}{pollutant}精细化管理水平",
    ]
    body = "。".join(rng.sample(sentences, rng.randint(3, 6)))
    return f"{number}.{VERBS.pick(rng)}{obj}。{body}。{style.paren(_roles(rng, style))}"


def _some(rng: random.Random, items: tuple, low: int, high: int) -> list:
    return rng.sample(items, min(len(items), rng.randint(low, high)))


def _target(target: Target, rng: random.Random, year: int) -> str:
    value = round(rng.uniform(target.low, target.high), target.decimals)
    value_text = f"{value:.{target.decimals}f}"
    if target.comparator == "下降":
        return f"{target.metric}较{year - rng.randint(3, 5)}年下降{value_text}{target.unit}"
    verb = rng.choice(("达到", "稳定在", "提高到")) if target.comparator == "以上" else rng.choice(("控制在", "降至"))
    return f"{target.metric}{verb}{value_text}{target.unit}{target.comparator}"


def _roles(rng: random.Random, style: _PlanStyle) -> str:
    """Role parentheses in the forms the bundled plan prints (牵头/配合/参与/按职责分工负责/负责落实)."""
    c = style.comma
    units = DEPARTMENTS.some(rng, 2, 6)
    lead, others = units[0], units[1:]
    named = [f"市{unit}" if i == 0 or rng.random() < 0.3 else unit for i, unit in enumerate(others)]
    county = rng.choice(("各县区政府", "各县区政府", "相关县区政府", f"{COUNTIES.pick(rng)}政府"))
    form = rng.randint(0, 4)
    if form == 0:
        return f"市{lead}牵头{c}{'、'.join(named)}配合{c}{county}负责落实"
    if form == 1:
        return f"市{lead}牵头{c}{'、'.join(named)}参与"
    if form == 2:
        return f"{'、'.join([lead, *others])}按职责分工负责{c}{county}负责落实"
    if form == 3:
        return f"市{lead}牵头{c}{county}负责落实"
    return f"市{lead}牵头{c}{'、'.join(named)}按职责分工落实"


# ---------------------------------------------------------------------------------------------- laws


def _law(rng: random.Random, index: int, titles: set[str]) -> tuple[DocMeta, str]:
    theme = rng.choice(THEMES)
    place, name = _law_name(rng, theme, titles, index)
    issuer = f"{place or '全国'}人民代表大会常务委员会"
    law = "本法" if name.endswith(("法", "法(试行)")) else "本条例" if "条例" in name else "本办法"
    adopted = _date(rng, rng.randint(1989, 2016))
    preamble = [f"{_cn_date(adopted)} {_session(rng, place, adopted)}通过"]
    revised = adopted
    for count in range(1, rng.randint(1, 4)):
        later = revised + dt.timedelta(days=rng.randint(400, 3000))
        if later > LATEST_REVISION:
            break
        revised = later
        what = rng.choice((f"《关于修改〈{name}〉的决定》第{_cn(count)}次修正", f"第{_cn(count)}次修订"))
        preamble.append(f"{_cn_date(revised)} {_session(rng, place, revised)}{what}")
    effective = revised + dt.timedelta(days=rng.choice((0, 0, 60, 180)))
    gap = rng.choice((" ", "\u3000"))  # the bundled laws print both

    articles = _Articles(rng, theme, law)
    blocks = [f"# {name}", *preamble, "<!-- INFO END -->"]
    middle = _some(rng, theme.chapters, 3, 6)
    with_sections = rng.choice(middle)
    for number, chapter in enumerate(["总则", *middle, "法律责任", "附则"], start=1):
        blocks.append(f"## 第{_cn(number)}章{gap}{chapter}")
        if chapter == "总则":
            blocks += articles.general(rng.randint(6, 14))
        elif chapter == "法律责任":
            blocks += articles.liabilities(rng.randint(12, 32))
        elif chapter == "附则":
            blocks += articles.closing(effective)
        elif chapter == with_sections:
            for section_number, section in enumerate(rng.sample(theme.sections, rng.randint(2, len(theme.sections))), 1):
                blocks.append(f"### 第{_cn(section_number)}节{gap}{section}")
                blocks += articles.measures(rng.randint(4, 14))
        else:
            blocks += articles.measures(rng.randint(8, 22))
    meta = DocMeta(id=f"synth-law-{index:05d}", title=name, file=f"synth-law-{index:05d}.md", issuer=issuer,
                   issued=revised, effective=effective, kind="law", visibility="public", source="kbase.bench.synth 合成文档")
    return meta, "\n\n".join(blocks) + "\n"


def _law_name(rng: random.Random, theme: Theme, titles: set[str], index: int) -> tuple[str, str]:
    """(legislature's place, "" for the national one; the law's name), unique within the corpus."""
    for _ in range(50):
        level = rng.random()
        if level < 0.25:
            place, name = "", f"中华人民共和国{theme.law_topics.pick(rng)}法{rng.choice(('', '', '(试行)'))}"
        else:
            place = f"{PROVINCES.pick(rng)}省" if level < 0.75 else f"{rng.choice(CITIES)[0]}市"
            name = f"{place}{theme.law_topics.pick(rng)}{rng.choice(('条例', '条例', '办法'))}"
        if name not in titles:
            return place, name
    return place, f"{name}(合成{index})"  # the name space is spent only far beyond 100x


def _session(rng: random.Random, place: str, day: dt.date) -> str:
    term = _cn((day.year - 1983) // 5 + 6)  # the 6th National People's Congress sat from 1983, one term per five years
    congress = f"{place}第{term}届人民代表大会" if place else f"第{term}届全国人民代表大会"
    return f"{congress}常务委员会第{_cn(rng.randint(2, 40))}次会议"


class _Articles:
    """Numbers articles across chapters and writes them in the bundled laws' full-width style."""

    def __init__(self, rng: random.Random, theme: Theme, law: str):
        self.rng, self.theme, self.law = rng, theme, law
        self.number = 0

    def _article(self, *paragraphs: str) -> list[str]:
        self.number += 1
        return [f"第{_cn(self.number)}条 {paragraphs[0]}", *paragraphs[1:]]

    @staticmethod
    def _items(items: list[str], ending: str) -> list[str]:
        return [f"（{_cn(i)}）{item}{ending}{'；' if i < len(items) else '。'}" for i, item in enumerate(items, 1)]

    def _department(self) -> str:
        return f"县级以上人民政府{LAW_DEPARTMENTS.pick(self.rng)}主管部门"

    def general(self, count: int) -> list[str]:
        t, rng = self.theme, self.rng
        blocks = self._article(f"为了保护和改善{t.medium}，防治{t.pollutants.pick(rng)}等污染，保障公众健康，推进生态文明建设，"
                               f"促进经济社会可持续发展，制定{self.law}。")
        blocks += self._article(f"{self.law}适用于本行政区域内的{t.field}及其监督管理活动。")
        for _ in range(count - 2):
            blocks += self._article(*rng.choice((
                lambda: (f"{self._department()}对本行政区域内的{t.field}工作实施统一监督管理。",
                         f"{self._department()}在各自职责范围内对{t.field}工作实施监督管理。"),
                lambda: (f"地方各级人民政府应当对本行政区域的{t.medium}质量负责，制定规划，采取措施，控制或者逐步削减"
                         f"{t.pollutants.pick(rng)}的排放量，使{t.medium}质量达到规定标准并逐步改善。",),
                lambda: (f"国家鼓励和支持{t.field}科学技术研究，推广先进适用的{t.field}技术和装备，促进科技成果转化。",),
                lambda: (f"{SUBJECTS.pick(rng)}应当{t.duties.pick(rng)}，对所造成的损害依法承担责任。",
                         "公民应当增强环境保护意识，采取低碳、节俭的生活方式，自觉履行环境保护义务。"),
            ))())
        return blocks

    def measures(self, count: int) -> list[str]:
        t, rng = self.theme, self.rng
        blocks: list[str] = []
        for _ in range(count):
            blocks += self._article(*rng.choice((
                lambda: (f"{SUBJECTS.pick(rng)}应当{'，并'.join(t.duties.some(rng, 1, 2))}。",),
                lambda: (f"禁止{t.violations.pick(rng)}。",),
                lambda: (f"{SUBJECTS.pick(rng)}应当按照国家有关规定和监测规范，对其排放的{t.pollutants.pick(rng)}进行监测，"
                         f"并保存原始监测记录。原始监测记录保存期限不得少于{_cn(rng.choice((3, 5)))}年。",),
                lambda: (f"{self._department()}应当会同有关部门，根据{t.medium}质量状况和经济、技术条件，"
                         f"制定{t.pollutants.pick(rng)}防治规划，报本级人民政府批准后公布实施。",
                         f"规划应当明确{t.places.pick(rng)}的{t.pollutants.pick(rng)}控制要求和完成时限。"),
                lambda: (f"在{t.places.pick(rng)}，{SUBJECTS.pick(rng)}不得有下列行为：",
                         *self._items([*t.violations.some(rng, 2, 4), "法律、法规规定的其他行为"], "")),
            ))())
        return blocks

    def liabilities(self, count: int) -> list[str]:
        t, rng = self.theme, self.rng
        blocks: list[str] = []
        for _ in range(count):
            low = rng.choice((1, 2, 5, 10, 20))
            fine = f"处{_cn(low)}万元以上{_cn(low * rng.choice((5, 10)))}万元以下的罚款"
            if rng.random() < 0.35:
                items = t.violations.some(rng, 2, 4)
                blocks += self._article(
                    f"违反{self.law}规定，有下列行为之一的，由{self._department()}责令改正，{fine}；情节严重的，"
                    "报经有批准权的人民政府批准，责令停业、关闭：",
                    *self._items(items, "的"))
            else:
                blocks += self._article(
                    f"违反{self.law}规定，{t.violations.pick(rng)}的，由{self._department()}责令改正，{fine}；"
                    f"{rng.choice(('拒不改正的，责令停产整治', '构成犯罪的，依法追究刑事责任', '造成损害的，依法承担侵权责任'))}。")
        return blocks

    def closing(self, effective: dt.date) -> list[str]:
        t = self.theme
        blocks = self._article(f"{self.law}中下列用语的含义：",
                               f"（一）{t.pollutants.items[0]}，是指排放到{t.medium}中、对人体健康或者生态环境造成危害的物质；",
                               f"（二）{t.places.items[0]}，是指依法划定并实施重点管理的区域。")
        return blocks + self._article(f"{self.law}自{_cn_date(effective)}起施行。")


@lru_cache(maxsize=None)
def _cn(number: int) -> str:
    return cn2an.an2cn(number)
