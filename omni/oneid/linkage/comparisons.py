"""Splink settings of the account-linking model: comparisons and levels, blocking and training rules.

Every level is written symmetrically (``_l`` and ``_r`` can be swapped), so the result does not
depend on which side Splink puts on the left.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "account_blocking_rules",
    "account_comparisons",
    "account_deterministic_rules",
    "account_training_rules",
]


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(*cols: str) -> dict[str, Any]:
    cond = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in cols)
    return _level(cond, "missing", is_null_level=True)


def _else() -> dict[str, Any]:
    return _level("ELSE", "different")


def _overlap(col: str) -> str:
    return f'list_has_any("{col}_l", "{col}_r")'


def account_comparisons() -> list[dict[str, Any]]:
    """Comparisons of an account (left) with a profile (right), as Splink comparison dicts.

    Every level is written symmetrically (``_l`` and ``_r`` can be swapped), so the result does
    not depend on which side Splink puts on the left.
    """
    return [
        {
            "output_column_name": "phone",
            "comparison_description": "masked phone (first 3 + last 4 digits)",
            "comparison_levels": [
                _null("mphones"),
                _level('"mphone_l" = "mphone_r"', "primary masked phone equal",
                       tf_adjustment_column="mphone", tf_adjustment_weight=1.0),
                _level(_overlap("mphones"), "a masked phone shared"),
                _else(),
            ],
        },
        {
            "output_column_name": "name",
            "comparison_description": "receiver / member name",
            "comparison_levels": [
                _null("names"),
                _level('"name_l" = "name_r"', "primary name equal",
                       tf_adjustment_column="name", tf_adjustment_weight=1.0),
                _level(_overlap("names"), "a name shared"),
                _level(_overlap("names_py"), "same pinyin (homophone)"),
                _level('length("name_l") = length("name_r") AND '
                       'levenshtein("name_l", "name_r") = 1',
                       "one character apart"),
                _level('left("name_l", 1) = left("name_r", 1)', "same surname"),
                _else(),
            ],
        },
        {
            "output_column_name": "address",
            "comparison_description": "delivery / member address, most precise part shared",
            "comparison_levels": [
                _null("cities"),
                _level(_overlap("streets"), "same road, number and room"),
                _level(_overlap("roads"), "same road and number"),
                _level(f'{_overlap("districts")} AND {_overlap("cities")}', "same district"),
                _level(f'{_overlap("cities")} AND ("districts_l" IS NULL OR "districts_r" IS NULL)',
                       "same city, district unknown"),
                _level(_overlap("cities"), "same city, other district"),
                _level(_overlap("provinces"), "same province"),
                _else(),
            ],
        },
    ]


def account_blocking_rules() -> list[Any]:
    """Blocking rules that generate candidate pairs: any masked phone shared; any street
    address (road, number, room) shared.

    Names are never a blocking key on their own: 王伟 in Shanghai would pair every account of
    every 王伟 with every profile of every 王伟 (at a million persons, tens of millions of pairs
    that the phone and the address reject anyway). An account whose phone changed is still
    reached through its delivery address when the profile has one.
    """
    from splink import block_on

    return [
        block_on("mphones", arrays_to_explode=["mphones"]),
        block_on("streets", arrays_to_explode=["streets"]),
    ]


def account_training_rules() -> list[str]:
    """EM training blocks: each estimates the m of the comparisons it does not fix.

    The same primary masked phone leaves name and address free; the same primary street
    address (the buyer, or a family member at the same home) leaves phone and name free. A block
    on the name is avoided: among same-name pairs city is the only other signal most profiles
    carry, and EM then mistakes namesakes in one city for matches whose phone differs.
    """
    return ['l."mphone" = r."mphone"', 'l."street" = r."street"']


def account_deterministic_rules() -> list[str]:
    """Near-certain rules for the prior (probability two random records match)."""
    return ['l."mphone" = r."mphone" AND l."name" = r."name"']
