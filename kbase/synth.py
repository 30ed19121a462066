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

BUNDLED_CORPUS_BYTES = 182_539  # the five documents of kbase/corpus, in UTF-8 bytes; scale 1 ≈ this much text
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


THEMES = (
    Theme(
        field="大气污染防治", medium="大气环境",
        plan_topics=Pool("大气污染防治攻坚", "空气质量持续改善", "蓝天保卫战", "臭氧污染防治", "重污染天气消除攻坚"),
        groups=Pool("城市空气质量提升进位行动", "交通运输清洁行动", "能源绿色低碳发展行动", "工业行业升级改造行动",
                    "扬尘污染精细化管控行动", "重污染天气应对行动", "挥发性有机物综合治理行动"),
        objects=Pool("重点行业超低排放改造", "燃煤锅炉淘汰", "挥发性有机物综合治理", "柴油货车污染治理", "扬尘污染管控",
                     "非道路移动机械监管", "工业炉窑深度治理", "清洁取暖改造", "餐饮油烟治理", "秸秆禁烧",
                     "新能源汽车推广", "加油站油气回收治理", "煤电结构优化升级", "大宗货物清洁运输"),
        places=Pool("城市建成区", "工业园区", "建筑工地", "物流园区", "高速公路沿线", "重点企业", "国省干线公路",
                    "城乡结合部", "混凝土搅拌站"),
        pollutants=Pool("颗粒物", "氮氧化物", "挥发性有机物", "二氧化硫", "扬尘", "臭氧", "氨", "一氧化碳", "烟尘"),
        targets=(Target("细颗粒物(PM2.5)平均浓度", "微克/立方米", "以下", 32, 58), Target("优良天数比例", "%", "以上", 62, 85),
                 Target("重污染天数比例", "%", "以下", 0.5, 3.0, 1), Target("可吸入颗粒物(PM10)平均浓度", "微克/立方米", "以下", 55, 90),
                 Target("氮氧化物排放总量", "%", "下降", 5, 15), Target("新能源汽车保有量", "万辆", "以上", 3, 20),
                 Target("非化石能源消费占比", "%", "以上", 12, 22)),
        law_topics=Pool("大气污染防治", "扬尘污染防治", "机动车和非道路移动机械排气污染防治", "重污染天气应对"),
        chapters=("大气污染防治标准和限期达标规划", "大气污染防治的监督管理", "大气污染防治措施", "重点区域大气污染联合防治",
                  "重污染天气应对"),
        sections=("燃煤和其他能源污染防治", "工业污染防治", "机动车船等污染防治", "扬尘污染防治", "农业和其他污染防治"),
        duties=Pool("采取有效措施防止、减少大气污染物排放", "安装使用大气污染物排放自动监测设备", "对施工现场实施围挡、覆盖和湿法作业",
                    "使用符合标准的低挥发性有机物含量原料", "制定重污染天气应急响应操作方案", "按照规定对排放口进行规范化设置",
                    "在密闭空间或者设备中进行产生含挥发性有机物废气的生产活动"),
        violations=Pool("超过大气污染物排放标准排放大气污染物", "未依法取得排污许可证排放大气污染物", "露天焚烧秸秆、落叶等产生烟尘污染的物质",
                        "施工工地未设置硬质围挡或者未采取覆盖措施", "侵占、损毁或者擅自移动大气环境质量监测设施",
                        "通过逃避监管的方式排放大气污染物"),
    ),
    Theme(
        field="水污染防治", medium="水环境",
        plan_topics=Pool("碧水保卫战", "水污染防治攻坚", "美丽河湖建设", "黑臭水体治理", "饮用水水源保护"),
        groups=Pool("黑臭水体消除行动", "美丽幸福河湖建设行动", "城乡污水治理提质增效行动", "饮用水水源地保护行动",
                    "入河排污口整治行动", "工业废水深度治理行动"),
        objects=Pool("黑臭水体治理", "入河排污口排查整治", "城镇生活污水处理提质增效", "乡镇污水处理设施建设", "饮用水水源地规范化建设",
                     "工业园区污水集中处理", "雨污分流改造", "河湖生态流量保障", "畜禽养殖污染治理", "农村黑臭水体整治"),
        places=Pool("县建成区", "乡镇政府驻地", "工业集聚区", "黄河干流", "重点流域", "饮用水水源保护区", "城市排水管网",
                    "农村地区", "国省控断面上游"),
        pollutants=Pool("化学需氧量", "氨氮", "总磷", "总氮", "石油类", "重金属", "悬浮物"),
        targets=(Target("国省控断面水质优良比例", "%", "以上", 60, 90), Target("城市生活污水集中收集率", "%", "以上", 65, 85),
                 Target("县级以上集中式饮用水水源地水质达标率", "%", "以上", 95, 100), Target("化学需氧量排放总量", "%", "下降", 3, 10),
                 Target("农村生活污水治理率", "%", "以上", 30, 60), Target("再生水利用率", "%", "以上", 20, 35)),
        law_topics=Pool("水污染防治", "饮用水水源保护", "河道管理", "城镇排水与污水处理"),
        chapters=("水污染防治的标准和规划", "水污染防治的监督管理", "水污染防治措施", "饮用水水源和其他特殊水体保护",
                  "水污染事故处置"),
        sections=("一般规定", "工业水污染防治", "城镇水污染防治", "农业和农村水污染防治", "船舶水污染防治"),
        duties=Pool("按照国家有关规定和监测规范对所排放的水污染物自行监测", "建设污水集中处理设施及配套管网",
                    "对含有毒有害水污染物的废水进行分类收集和处理", "保证水污染物处理设施的正常运行",
                    "在饮用水水源保护区的边界设立明确的地理界标和明显的警示标志"),
        violations=Pool("未依法取得排污许可证排放水污染物", "利用渗井、渗坑、裂隙、溶洞排放水污染物",
                        "向水体排放油类、酸液、碱液", "在饮用水水源一级保护区内新建与供水设施无关的建设项目",
                        "未按照规定对所排放的水污染物自行监测", "私设暗管排放水污染物"),
    ),
    Theme(
        field="土壤污染防治", medium="土壤环境",
        plan_topics=Pool("净土保卫战", "土壤污染防治", "地下水污染防治", "农用地安全利用"),
        groups=Pool("农用地分类管理行动", "建设用地准入管理行动", "地下水污染防治行动", "土壤污染源头防控行动",
                    "土壤环境监管能力提升行动", "农业面源污染治理行动"),
        objects=Pool("受污染耕地安全利用", "建设用地土壤污染风险管控", "土壤污染重点监管单位隐患排查", "涉重金属行业污染防控",
                     "地下水污染状况调查", "化工园区地下水环境监测", "土壤污染修复", "农药化肥减量增效"),
        places=Pool("重点监管单位", "化工园区", "污染地块", "耕地集中区", "垃圾填埋场", "尾矿库", "关闭搬迁企业用地"),
        pollutants=Pool("镉", "铅", "汞", "砷", "铬", "多环芳烃", "石油烃", "有机氯农药"),
        targets=(Target("受污染耕地安全利用率", "%", "以上", 90, 98), Target("重点建设用地安全利用率", "%", "以上", 90, 100),
                 Target("地下水国控点位V类水比例", "%", "以下", 5, 25), Target("化肥施用量", "%", "下降", 2, 8)),
        law_topics=Pool("土壤污染防治", "地下水管理", "农用地土壤环境管理"),
        chapters=("规划、标准、普查和监测", "预防和保护", "风险管控和修复", "保障和监督"),
        sections=("一般规定", "农用地", "建设用地"),
        duties=Pool("严格控制有毒有害物质排放", "建立土壤污染隐患排查制度", "制定、实施自行监测方案",
                    "采取措施防止有毒有害物质渗漏、流失、扬散", "编制土壤污染状况调查报告"),
        violations=Pool("向农用地排放重金属或者其他有毒有害物质含量超标的污水", "未按照规定进行土壤污染状况调查",
                        "将重金属或者其他有毒有害物质含量超标的工业固体废物用于土地复垦", "篡改、伪造监测数据",
                        "拆除设施、设备或者建筑物未采取相应的土壤污染防治措施"),
    ),
    Theme(
        field="固体废物污染环境防治", medium="生态环境",
        plan_topics=Pool("无废城市建设", "固体废物综合治理", "危险废物专项整治", "塑料污染治理"),
        groups=Pool("工业固体废物减量行动", "生活垃圾分类行动", "危险废物规范化管理行动", "建筑垃圾资源化利用行动"),
        objects=Pool("危险废物规范化管理", "一般工业固体废物综合利用", "生活垃圾分类", "建筑垃圾资源化利用", "医疗废物集中处置",
                     "塑料污染治理", "废旧动力电池回收利用", "尾矿库污染隐患排查"),
        places=Pool("产废企业", "垃圾焚烧发电厂", "医疗机构", "大型商超", "快递网点", "城乡接合部", "工业园区"),
        pollutants=Pool("危险废物", "工业固体废物", "生活垃圾", "医疗废物", "建筑垃圾", "废塑料"),
        targets=(Target("一般工业固体废物综合利用率", "%", "以上", 60, 90), Target("城市生活垃圾回收利用率", "%", "以上", 30, 45),
                 Target("医疗废物无害化处置率", "%", "以上", 99, 100), Target("建筑垃圾资源化利用率", "%", "以上", 40, 70)),
        law_topics=Pool("固体废物污染环境防治", "生活垃圾分类管理", "危险废物管理"),
        chapters=("监督管理", "工业固体废物", "生活垃圾", "建筑垃圾、农业固体废物等", "危险废物", "保障措施"),
        sections=("一般规定", "收集和贮存", "运输和处置"),
        duties=Pool("建立健全工业固体废物产生、收集、贮存、运输、利用、处置全过程的污染环境防治责任制度",
                    "按照国家有关规定制定危险废物管理计划", "对危险废物的容器和包装物设置危险废物识别标志",
                    "依法向社会公开固体废物污染环境防治信息"),
        violations=Pool("擅自倾倒、堆放、丢弃、遗撒固体废物", "未按照规定设置危险废物识别标志",
                        "将危险废物提供或者委托给无许可证的单位从事经营活动", "未按照规定建立工业固体废物管理台账",
                        "在运输过程中沿途丢弃、遗撒工业固体废物"),
    ),
    Theme(
        field="噪声污染防治", medium="声环境",
        plan_topics=Pool("噪声污染防治", "宁静城市建设", "声环境质量改善"),
        groups=Pool("交通噪声治理行动", "建筑施工噪声管控行动", "社会生活噪声整治行动", "工业噪声监管行动",
                    "声环境监测能力提升行动"),
        objects=Pool("交通噪声治理", "夜间施工审批管理", "声环境功能区划调整", "噪声自动监测站建设", "宁静小区创建"),
        places=Pool("居民住宅区", "学校医院周边", "城市快速路", "夜间施工工地", "商业步行街"),
        pollutants=Pool("噪声", "振动", "低频噪声"),
        targets=(Target("声环境功能区夜间达标率", "%", "以上", 80, 90), Target("功能区声环境质量自动监测覆盖率", "%", "以上", 80, 100)),
        law_topics=Pool("噪声污染防治", "环境噪声管理"),
        chapters=("噪声污染防治标准和规划", "噪声污染防治的监督管理", "工业噪声污染防治", "建筑施工噪声污染防治",
                  "交通运输噪声污染防治", "社会生活噪声污染防治"),
        sections=("一般规定", "道路交通", "铁路和航空"),
        duties=Pool("采取有效措施减少振动、降低噪声", "按照规定设置噪声自动监测系统", "在施工现场显著位置公示夜间施工许可"),
        violations=Pool("在噪声敏感建筑物集中区域夜间进行产生噪声的建筑施工作业", "超过噪声排放标准排放工业噪声",
                        "未按照规定设置噪声自动监测系统"),
    ),
    Theme(
        field="生态保护和修复", medium="生态环境",
        plan_topics=Pool("生态保护修复", "黄河流域生态保护和高质量发展", "生物多样性保护", "国土绿化"),
        groups=Pool("生态系统保护修复行动", "生物多样性保护行动", "国土绿化提质行动", "湿地保护行动"),
        objects=Pool("黄河湿地保护修复", "生态保护红线监管", "国土绿化", "自然保护地整合优化", "生物多样性调查", "矿山生态修复",
                     "水土流失综合治理"),
        places=Pool("黄河滩区", "自然保护区", "湿地公园", "废弃矿山", "生态保护红线区域", "沿黄生态廊道"),
        pollutants=Pool("外来入侵物种", "水土流失", "面源污染"),
        targets=(Target("森林覆盖率", "%", "以上", 18, 30), Target("湿地保护率", "%", "以上", 50, 70),
                 Target("水土保持率", "%", "以上", 85, 95)),
        law_topics=Pool("黄河保护", "湿地保护", "生态环境保护", "自然保护地管理"),
        chapters=("规划与管控", "生态保护与修复", "水资源节约集约利用", "污染防治", "促进高质量发展", "保障与监督"),
        sections=("一般规定", "湿地", "森林和草原"),
        duties=Pool("落实生态保护红线管控要求", "开展生态保护修复工程", "依法办理用地审批手续",
                    "采取措施恢复被破坏的植被"),
        violations=Pool("在生态保护红线内从事不符合管控要求的开发活动", "擅自占用、开垦湿地", "破坏自然保护地内的自然景观",
                        "非法采砂、取土"),
    ),
)

CITIES = (("开封", "汴"), ("郑州", "郑"), ("洛阳", "洛"), ("新乡", "新"), ("焦作", "焦"), ("安阳", "安"), ("商丘", "商"),
          ("许昌", "许"), ("平顶山", "平"), ("南阳", "宛"), ("濮阳", "濮"), ("周口", "周"), ("信阳", "信"), ("漯河", "漯"),
          ("鹤壁", "鹤"), ("三门峡", "三"), ("驻马店", "驻"), ("济源", "济"))
PROVINCES = Pool("河南", "河北", "山东", "山西", "陕西", "湖北", "安徽", "江苏", "浙江", "四川", "湖南", "江西", "广东",
                 "福建", "辽宁", "吉林", "甘肃", "云南", "贵州", "黑龙江")
DEPARTMENTS = Pool("生态环境局", "发展改革委", "工业和信息化局", "公安局", "财政局", "住房城乡建设局", "交通运输局", "城管局",
                   "自然资源和规划局", "水利局", "农业农村局", "商务局", "市场监管局", "卫生健康委", "应急管理局", "林业局",
                   "气象局", "科技局", "机关事务管理中心", "邮政管理局", "文化广电和旅游局", "教育局", "税务局", "国资委")
COUNTIES = Pool("兰考县", "杞县", "通许县", "尉氏县", "祥符区", "中牟县", "新郑市", "巩义市", "孟津区", "汝州市", "林州市",
                "滑县", "长垣市", "辉县市", "沁阳市", "范县", "禹州市", "长葛市", "灵宝市", "邓州市", "永城市", "固始县", "项城市")
LAW_DEPARTMENTS = Pool("生态环境", "住房城乡建设", "交通运输", "自然资源", "水行政", "农业农村", "工业和信息化", "市场监督管理",
                       "卫生健康", "发展改革", "林业草原", "公安")
SUBJECTS = Pool("企业事业单位和其他生产经营者", "排污单位", "重点排污单位", "建设单位", "施工单位", "运营单位", "土地使用权人",
                "农业生产经营者", "公民、法人和其他组织")
VERBS = Pool("推进", "加快", "深化", "强化", "开展", "实施", "完善", "持续推进", "全面推进", "扎实推进", "大力推进", "健全")
SAFEGUARDS = (("强化组织领导", "各级党委和政府要切实扛起生态环境保护政治责任,建立健全工作推进机制,定期研究解决重大问题"),
              ("强化责任落实", "各县区、各有关部门要细化分解目标任务,明确时间表、路线图和责任人,确保各项任务按期完成"),
              ("强化资金保障", "加大财政投入力度,积极争取中央和省级专项资金,引导社会资本参与生态环境治理"),
              ("强化科技支撑", "加强与高校、科研院所合作,推广先进适用治理技术,提升污染治理精准化、科学化水平"),
              ("强化督导考核", "将目标任务完成情况纳入年度目标考核,对工作不力、进度滞后的县区和部门进行通报、约谈"),
              ("强化宣传引导", "健全生态环境新闻发布机制,及时公布环境质量信息,引导公众积极参与生态环境保护"))


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
    manifest = {"_about": f"Synthetic documents from kbase.synth (scale={scale}, seed={seed}); not real policy.",
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
                   source="kbase.synth 合成文档" + ("(内部)" if internal else ""))
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
                   issued=revised, effective=effective, kind="law", visibility="public", source="kbase.synth 合成文档")
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
