"""Reports in Chinese (``--lang zh``): the mechanism (omni.core.i18n), the dataset default, the whole
report of the small world in Chinese, and every domain's chart drawn with no missing glyph."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from omni.core import i18n
from omni.core.i18n import LanguageError, month_label, short_number, using_lang
from omni.io.errors import DataContractError
from omni.io.spec import parse_spec

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ("01_data_audit", "02_identity_resolution", "03_clv_tgi", "04_channel_attribution",
             "05_campaign_uplift", "06_audiences")


def test_chinese_numbers_and_months():
    with using_lang("zh"):
        assert short_number(12_345) == "1.2万"
        assert short_number(20_000) == "2万"
        assert short_number(340_000_000) == "3.4亿"
        assert short_number(-15_000) == "-1.5万"
        assert short_number(9_999) == "9,999"
        assert month_label("2026-10") == "2026年10月"
        assert month_label("2026-01") == "2026年1月"
        assert i18n.unit("CNY") == "元" and i18n.unit("days") == "天"
    # English is untouched, and the language is restored after the block
    assert i18n.current_lang() == "en"
    assert short_number(12_345) == "12,345" and month_label("2026-10") == "2026-10"
    assert i18n.unit("CNY") == " CNY"


def test_unknown_language_is_one_clear_error():
    with pytest.raises(LanguageError, match=r"--lang: unknown report language 'fr'; known: en, zh"):
        i18n.check_lang("fr", "--lang")


def _spec(report):
    raw = {"dataset": "d", "sources": {"s": {"file": "s.csv", "columns": {"a": "string"}}}}
    if report is not None:
        raw["report"] = report
    return parse_spec(raw)


def test_dataset_default_language_in_sources_yaml():
    assert _spec(None).report_lang is None
    assert _spec({"lang": "zh"}).report_lang == "zh"
    with pytest.raises(DataContractError, match="report.lang: unknown report language 'cn'"):
        _spec({"lang": "cn"})
    with pytest.raises(DataContractError, match="unknown key 'language' in report"):
        _spec({"language": "zh"})


def _build_notebooks(dest: Path) -> Path:
    """The notebooks built from notebooks/src (their prose cells carry the lang-en / lang-zh tags)."""
    spec = importlib.util.spec_from_file_location("nbbuild", ROOT / "tools" / "nbbuild.py")
    nbbuild = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nbbuild)
    dest.mkdir(parents=True, exist_ok=True)
    for src in sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py")):
        nbbuild.build(src, dest)
    return dest


@pytest.fixture(scope="module")
def zh_report(test_world, tmp_path_factory) -> Path:
    from omni.reporting.runner import run_report

    tmp = tmp_path_factory.mktemp("zh")
    nbs = _build_notebooks(tmp / "notebooks")
    return run_report(data=test_world, month="2026-10", notebooks=nbs, out=tmp / "reports", progress=False,
                      lang="zh")


HEADINGS_ZH = {"01_data_audit": "数据审计", "02_identity_resolution": "身份识别（OneID）",
               "03_clv_tgi": "客户价值：RFM、CLV 与 TGI", "04_channel_attribution": "渠道归因",
               "05_campaign_uplift": "活动增量", "06_audiences": "人群包"}
# sentences of the English report that must not appear in the Chinese one
ENGLISH = ["Is this month's data fit to analyse?", "Every row is accounted for", "## Sources at a glance",
           "Sources at a glance", "resolved to one person, the OneID", "Who are the brand's customers",
           "customers had bought by the end of", "Which marketing channels earn this month's orders",
           "paid orders worth", "What did the campaigns that ended this month cause?",
           "Who can marketing act on this month?", "distinct people at the end of", "rows received",
           "data fingerprint", "Completeness by source"]


def test_zh_report_is_chinese_throughout(zh_report):
    for name, heading in HEADINGS_ZH.items():
        html = (zh_report / f"{name}.html").read_text(encoding="utf-8")
        assert '<html lang="zh">' in html
        assert re.search(rf"<h1[^>]*>{re.escape(heading)}</h1>", html), name
        assert "数据指纹" in html and "运行时长" in html  # the run's header block
        for sentence in ENGLISH:
            assert sentence not in html, f"{name}.html still says {sentence!r}"
    audit = (zh_report / "01_data_audit.html").read_text(encoding="utf-8")
    assert "数据源概览" in audit and "<th>接收行数</th>" in audit and "每一行都有着落" in audit
    metrics = json.loads((zh_report / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["lang"] == "zh"
    rows = metrics["notebooks"]["01_data_audit"]["metrics"]["rows_in"]
    assert rows["label"] == "接收行数" and rows["value"] > 10_000  # the key and the figure stay the same
    # a large headline tile in 万, a month as 2026年10月
    tile = re.search(r'<div class="v">([^<]*)</div><div class="l">接收行数', audit).group(1)
    assert tile == f"{rows['value'] / 1e4:.1f}".removesuffix(".0") + "万"
    value = (zh_report / "03_clv_tgi.html").read_text(encoding="utf-8")
    assert "2026年10月有购买的客户" in value and re.search(r'<div class="v">[\d.]+万元</div>', value)
    index = (zh_report / "index.html").read_text(encoding="utf-8")
    assert "omni 全域用户分析月报 · 2026年10月" in index and "<th>核心指标</th>" in index and "接收行数" in index
    assert "this month" not in index and "Personal data is masked" not in index


def test_zh_charts_have_every_glyph(zh_report):
    # matplotlib warns "Glyph N (...) missing from font(s) ..." on every character it cannot draw
    for name in NOTEBOOKS:
        text = (zh_report / f"{name}.ipynb").read_text(encoding="utf-8")
        assert "missing from font" not in text, f"{name}: a chart label is drawn as boxes"


# Names that stay as they are in a Chinese report: methods, metrics and platforms known by these names.
KEPT_NAMES = set("""OneID OneIDs RFM TGI CLV ROI ROAS BG NBD CUPED Qini AUUC Markov Shapley KOL UTM GMV SKU
Tmall JD Douyin WeChat POS CSV HTML ID IDs CI BLP ITT CATE ATE Gamma Pareto Fellegi Sunter Splink DuckDB PASS WARN FAIL
tencent google meta HASH Email Phone email phone alpha beta Customer Match""".split())  # Customer Match: Google's product


def _english_runs(html: str) -> list[str]:
    """Runs of two or more English words in the page's prose and tables (code cells, scripts and
    styles left out). Technical codes (``wechat_push``, ``CMP05``) and the names above don't count."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for el in soup(["script", "style", "pre", "code"]):
        el.decompose()
    for el in soup.select(".jp-CodeCell .jp-InputArea"):  # code; a Markdown cell's prose is read
        el.decompose()
    runs = []
    for line in soup.get_text("\n").splitlines():
        for m in re.findall(r"[A-Za-z][A-Za-z' \-]{3,}[A-Za-z]", line):
            words = [w for w in re.findall(r"[A-Za-z_0-9]+", m) if w not in KEPT_NAMES and len(w) > 2
                     and "_" not in w and not any(c.isdigit() for c in w)]
            if len(words) >= 2:
                runs.append(m.strip())
    return runs


def test_zh_report_has_no_english_left(zh_report):
    # the whole report: table cells (category labels, issue texts, model and channel names), prose,
    # headline values, the site's navigation; and no font notice in any output
    for name in (*NOTEBOOKS, "index"):
        html = (zh_report / f"{name}.html").read_text(encoding="utf-8")
        assert _english_runs(html) == [], f"{name}.html"
        assert "Failed to find font" not in html
    audit = (zh_report / "01_data_audit.html").read_text(encoding="utf-8")
    assert "本页目录" in audit and "omni 报告 · 2026年10月" in audit
    attribution = (zh_report / "04_channel_attribution.html").read_text(encoding="utf-8")
    assert "<td>短信</td>" in attribution and "<td>首次触点</td>" in attribution
    audiences = (zh_report / "06_audiences.html").read_text(encoding="utf-8")
    assert "近 7 天浏览或加购了商品" in audiences  # description_zh of the default audiences


def test_table_cells_take_registered_terms_only_in_chinese(monkeypatch):
    import IPython.display
    import pandas as pd

    import omni.attribution.narrative  # noqa: F401  (registers its terms)
    from omni.reporting.display import table

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    df = pd.DataFrame({"channel": ["sms", "my campaign <b>"], "n": [1, 2]})
    for lang, want in (("en", "<td>sms</td>"), ("zh", "<td>短信</td>")):
        with using_lang(lang):
            table(df)
        html = shown[-1]
        assert want in html
        assert "<td>my campaign &lt;b&gt;</td>" in html  # data text: not a term, escaped as ever


def test_named_headline_values_in_chinese():
    import omni.attribution.narrative  # noqa: F401
    from omni.core.result import Figure
    figs = [Figure("best", "closest model", "time decay (0.60)", previous="last touch (0.71)"),
            Figure("top", "top channel", "sms"), Figure("n", "orders", 3)]
    with using_lang("zh"):
        got = i18n.relabel(figs, {"best": "最接近真实的模型"})
    assert [(f.label, f.value) for f in got] == [("最接近真实的模型", "时间衰减（0.60）"), ("top channel", "短信"),
                                                 ("orders", 3)]
    assert got[0].previous == "末次触点（0.71）"
    assert i18n.relabel(figs, {"best": "x"}) == figs  # English: untouched
