"""The notes of the data-audit report: Markdown blocks built with :func:`omni.core.markup.md`.

Every value from the data (source names) is escaped; each function only formats the result.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from omni.audit.result import AuditResult
from omni.core.i18n import add_terms, current_lang, month_label, relabel, tr
from omni.core.markup import md
from omni.core.result import Figure

__all__ = ["clocks", "headline", "intro", "issues_table", "no_outliers", "no_quarantine", "summary", "title"]

#: The report's table columns and captions in Chinese (omni.reporting.display.table looks them up).
add_terms("zh", {
    "source": "数据源", "format": "格式", "encoding": "编码", "timezone": "时区", "rows_in": "接收行数",
    "accepted": "接受行数", "quarantined": "隔离行数", "quarantine_rate": "隔离率", "first": "最早", "last": "最晚",
    "days_stale": "滞后天数", "rows_this_month": "本月行数", "column": "列", "reason": "原因", "rows": "行数",
    "example_row": "示例行", "type": "类型", "identifier": "标识符", "filled": "填充率", "required": "必填",
    "id_type": "标识符类型", "values": "取值数", "valid": "有效", "valid_share": "有效比例", "null_like": "类空值",
    "invalid_other": "其他无效", "top_invalid_reason": "最常见无效原因", "top_invalid_n": "最常见无效数",
    "occurrences": "出现次数", "duplicate_rows": "重复行数", "duplicate_share": "重复比例", "previous_mean": "前三月均值",
    "this_month": "本月", "change": "变化", "best_shift_hours": "最佳偏移（小时）", "corr_at_best": "最佳偏移相关",
    "corr_at_zero": "零偏移相关", "flag": "标记", "rhythm": "作息", "master": "主数据", "unknown_to_master": "主数据中未知",
    "unknown_share": "未知比例", "declared_as": "声明为", "detected_as": "检测为", "detected_share": "检出比例",
    "undeclared": "未声明", "severity": "严重程度", "issue": "问题", "problems": "问题数", "sources": "数据源",
    "figure": "指标",
    "Blocked and invalid identifier values by reason": "按原因统计的屏蔽和无效标识符值",
    "Columns less than 95% filled": "填充率低于 95% 的列",
    "Identifier values per source and type": "各数据源、各类型的标识符值",
    "Quarantined cells by source, column and reason (example row = 1-based data row in the file)":
        "按数据源、列和原因统计的隔离单元格（示例行 = 文件中从 1 开始的数据行号）",
    "Outlying amounts (row = 1-based data row in the file)": "异常金额（行 = 文件中从 1 开始的数据行号）",
})

#: Severities of the ranked issues.
_SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}


def issues_table(result: AuditResult) -> pd.DataFrame:
    """The ranked issues in the report's language: ``severity``, ``source``, ``issue``, ``figure``.

    Each finding is worded in both languages where it is found (:mod:`omni.audit.issues`); this
    picks the report's and names the severities in it.
    """
    t = result.tables["issues"]
    out = t[["severity", "source", "issue", "figure"]].copy()
    if current_lang() == "zh" and "issue_zh" in t:
        out["severity"] = t["severity"].map(_SEVERITY_ZH).fillna(t["severity"])
        out["issue"] = t["issue_zh"].fillna(t["issue"])
        out["figure"] = t["figure_zh"].fillna(t["figure"])
    return out


_LABELS_ZH = {"sources": "数据源", "rows_in": "接收行数", "quarantine_rate": "隔离行比例",
              "reconciled": "行数对账一致的数据源", "high_issues": "高严重度问题", "quality_score": "平均质量得分（0-100）"}


def title(result: AuditResult) -> str:
    """The headline's title."""
    return tr(f"Data audit, {result.month}", f"数据审计，{month_label(result.month)}")


def headline(result: AuditResult) -> list[Figure]:
    """The headline figures, labelled in the report language."""
    figs = relabel(result.headline, _LABELS_ZH)
    if current_lang() == "zh":
        n = len(result.tables["overview"])
        figs = [dataclasses.replace(f, value=f"{result.reconciled_sources} / {n}") if f.key == "reconciled" else f
                for f in figs]
    return figs


def summary(result: AuditResult) -> str:
    """Whether every row is accounted for, and the weakest source with its score."""
    n = len(result.tables["overview"])
    n_rec = result.reconciled_sources
    worst = result.weakest
    if current_lang() == "zh":
        lead = "每一行都有着落" if n_rec == n else "**并非每一行都有着落**"
        return lead + md(
            "：{n} 个数据源中有 {n_rec} 个满足 接收行数 = 接受行数 + 隔离行数 = 文件自身统计的记录数。最弱的数据源是"
            " **{source}**（得分 {score:.0f}/100），原因见文末的问题清单。",
            n_rec=n_rec, n=n, source=worst["source"], score=float(worst["score"]))
    lead = "Every row is accounted for" if n_rec == n else "**Not every row is accounted for**"
    return lead + md(
        ": rows received = accepted + quarantined = records counted in the file itself in {n_rec} of {n} "
        "sources. The weakest source is **{source}** (score {score:.0f}/100); the ranked issue list at the "
        "end says why.", n_rec=n_rec, n=n, source=worst["source"], score=float(worst["score"]),
    )


def no_quarantine() -> str:
    """The note shown instead of the quarantine table when no row was quarantined."""
    return tr("No row was quarantined.", "没有行被隔离。")


def no_outliers() -> str:
    """The note shown instead of the outlier table when no amount is far from the typical value."""
    return tr("No amount is far from its source's typical value.", "没有金额远离其数据源的典型值。")


def clocks(result: AuditResult) -> str:
    """Which sources' clocks look shifted, and what to check."""
    shifted = result.shifted_clocks
    if shifted.empty:
        return tr("No source looks shifted.", "没有数据源的时钟看起来有偏移。")
    items = [md(tr("**{source}** ({hours:+d} h)", "**{source}**（{hours:+d} 小时）"), source=r.source,
                hours=int(r.best_shift_hours)) for r in shifted.itertuples()]
    return tr("Shifted: ", "有偏移：") + tr(", ", "、").join(items) + tr(
        ". Check the `timezone` declared for it in sources.yaml.", "。请检查 sources.yaml 中为其声明的 `timezone`。")


# The longer section introductions (what a check counts and how), shown under the notebook's headings.
_INTROS = {
    "completeness": (
        "Share of rows with a value, per column. Identifier columns are often sparse by design (not every\n"
        "order has a member card), so the chart and the quality score count the other columns; required\n"
        "columns must be complete.",
        "每列有值的行所占比例。标识符列本来就常常稀疏（并非每笔订单都有会员卡），因此图表和质量得分只计其他列；必填列必须完整。"),
    "identifiers": (
        "Identifiers are normalized (phones to E.164, emails lower-cased, device ids canonical, WeChat and\n"
        "platform ids scoped). Values that cannot identify anyone (null-like strings, store default phones,\n"
        "all-zero device ids, masked phones, malformed values) are blocked from linking.",
        "标识符先经过标准化（手机号转为 E.164，邮箱转小写，设备 ID 规范化，微信和平台 ID 加作用域）。无法识别任何人的值\n"
        "（类空值字符串、门店默认手机号、全零设备 ID、打码手机号、格式错误的值）不参与关联。"),
    "outliers": (
        "Amounts that pass validation (finite, not negative, under the column's `max`) but sit far from their\n"
        "source's typical value: robust z-score on the log amount (median and MAD per source and column),\n"
        "beyond 5. Listed by file row number for review; they stay in the analysis.",
        "通过校验（有限、非负、低于该列的 `max`）但远离所在数据源典型值的金额：按数据源和列计算对数金额的稳健 z 分数\n"
        "（中位数与 MAD），超过 5 即列出。按文件行号列出以供复核；它们仍保留在分析中。"),
    "clocks": (
        "People's daily rhythm is the same in every channel, so a source whose hour-of-day profile is shifted\n"
        "against the others was probably stamped in another timezone (UTC exports read as Beijing time show\n"
        "a shift of -8 h). The loader converts each source from its declared timezone; a flag here means the\n"
        "declaration is probably wrong.",
        "人们一天中的作息在各个渠道是一样的，因此某个数据源的分时分布若与其他数据源错开，多半是按另一个时区打的时间戳\n"
        "（按北京时间读取的 UTC 导出会错开 -8 小时）。加载时按各数据源声明的时区换算；此处标记说明声明很可能有误。"),
    "integrity": (
        "Member ids used in orders, events and campaigns should exist in the CRM. Overlap: the share of one\n"
        "source's phone numbers also present in another (how much each channel can be joined on phone).",
        "订单、行为和活动中使用的会员 ID 应当存在于 CRM 中。重合度：一个数据源的手机号有多大比例也出现在另一个数据源中\n"
        "（即各渠道可以靠手机号打通的程度）。"),
    "duplicates": (
        "Accepted rows identical to another row in every column but the record key (duplicate keys\n"
        "themselves are quarantined above).",
        "除记录主键外所有列都与另一行相同的已接受行（主键重复的行已在上文隔离）。"),
    "pii": (
        "Columns holding personal data, as declared in sources.yaml and as detected in the values. An\n"
        "undeclared detection is an issue: it would escape masking.",
        "含有个人信息的列，包括 sources.yaml 中声明的和从取值中检测到的。检测到但未声明的列是一个问题：它会逃过脱敏。"),
}


def intro(section: str) -> str:
    """The introduction of a report section (``"completeness"``, ``"identifiers"``, ``"outliers"``,
    ``"duplicates"``, ``"clocks"``, ``"integrity"``, ``"pii"``): what the check counts and how, in the
    report language."""
    en, zh = _INTROS[section]
    return tr(en, zh)
