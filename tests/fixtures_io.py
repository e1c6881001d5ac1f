"""A small hand-made dataset with known injected problems, for the io / normalize tests.

``write_dataset(root)`` writes ``root/raw/sources.yaml`` and five sources:

* crm_members.csv (UTF-8): leading-zero member ids, phone variants, 4 bad rows (see EXPECTED)
* pos_orders.csv (GBK, Chinese text): a negative amount and a line with too many fields
* service_tickets.csv (UTF-8, timezone UTC): times shift +8h to Asia/Shanghai
* web_events.parquet: a naive and a tz-aware timestamp column, ints stored natively
* ecom_orders.csv: scoped platform buyer ids and quasi-identifiers

Everything is deterministic; nothing depends on omni.synth.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SOURCES_YAML = """\
dataset: mini
timezone: Asia/Shanghai
currency: CNY
sources:
  crm_members:
    file: crm_members.csv
    format: csv
    encoding: utf-8
    timezone: Asia/Shanghai
    key: member_id
    columns:
      member_id: string
      phone: string
      email: string
      unionid: string
      name: string
      birth_year: int
      birthday: date
      register_time: datetime
      marketing_opt_out: bool
    required: [member_id, register_time]
    identifiers:
      - {column: member_id, type: member_id}
      - {column: phone, type: phone}
      - {column: email, type: email}
      - {column: unionid, type: unionid}
    quasi_identifiers:
      - {column: name, type: name}
    pii: [phone, email, name, birthday]
  pos_orders:
    file: pos_orders.csv
    format: csv
    encoding: gbk
    key: order_id
    columns:
      order_id: string
      member_card: string
      phone: string
      store_id: category
      city: string
      order_time: datetime
      amount: float
      status: category
    required: [order_id, order_time, amount]
    amounts: [amount]
    identifiers:
      - {column: member_card, type: member_id}
      - {column: phone, type: phone}
    pii: [phone]
  service_tickets:
    file: service_tickets.csv
    encoding: utf-8
    timezone: UTC
    key: ticket_id
    columns:
      ticket_id: string
      phone: string
      openid: string
      app_id: string
      created_time: datetime
      topic: string
    required: [ticket_id, created_time]
    identifiers:
      - {column: phone, type: phone}
      - {column: openid, type: openid, scope: app_id}
    pii: [phone]
  web_events:
    file: web_events.parquet
    format: parquet
    key: event_id
    columns:
      event_id: string
      cookie_id: string
      device_id: string
      member_id: string
      event_time: datetime
      sent_at: datetime
      n_items: int
      event_type: category
    required: [event_id, event_time]
    identifiers:
      - {column: cookie_id, type: cookie_id}
      - {column: device_id, type: device_id}
      - {column: member_id, type: member_id}
  ecom_orders:
    file: ecom_orders.csv
    key: order_id
    columns:
      order_id: string
      platform: string
      buyer_id: string
      receiver_name: string
      receiver_phone: string
      address: string
      order_time: datetime
      amount: float
    required: [order_id, order_time]
    amounts: [amount]
    identifiers:
      - {column: buyer_id, type: platform_buyer, scope: platform}
    quasi_identifiers:
      - {column: receiver_name, type: name}
      - {column: receiver_phone, type: masked_phone}
      - {column: address, type: address}
    pii: [receiver_name, receiver_phone, address]
"""

# Data rows are numbered from 1 (header excluded), as in the quarantine table.
CRM_CSV = """\
member_id,phone,email,unionid,name,birth_year,birthday,register_time,marketing_opt_out
000123,+86 138 0571 6294,Alice@Example.com,oUnion0001abcd,张三,1990,1990-01-02,2026-10-01 00:30:00,false
000124,138-0013-8001,bob@example.com,oUnion0002abcd,李四,1985,1985-03-04,2026-10-02 09:00,yes
000125,13800000000,null,,王五,1979,,2026/10/03 10:15,0
000126,13800138003,carol@example.com,oUnion0004abcd,赵六,1992,1992-05-06,2026-13-45 10:00,true
000127,138****5678,dave@example.com,oUnion0005abcd,周七,1988,1988-07-08,2026-10-05,no
,13800138005,erin@example.com,oUnion0006abcd,吴八,1991,1991-09-10,2026-10-06,false
000129,8613800138006,frank@example.com,oUnion0007abcd,郑九,1993,1993-11-12,2026-10-07T08:00:00,false
000123,13800138007,dup@example.com,oUnion0008abcd,冯十,1994,1994-01-02,2026-10-08,false
000131,13800138008,gina@example.com,oUnion0009abcd,陈一,19x0,1990-02-30,2026-10-09,maybe
000132,１３８００１３８００９,hank@example.com,oUnion0010abcd,褚二,1990,1990-12-31,2026-10-10,true
"""

POS_CSV = """\
order_id,member_card,phone,store_id,city,order_time,amount,status
P001,000123,13805716294,S01,上海,2026-10-01 12:00:00,199.00,paid
P002,,,S01,上海,2026-10-01 12:05:00,59.5,paid
P003,000124,138 0013 8001,S02,北京,2026-10-01 13:00:00,-20.00,refunded
P004,000125,,S02,北京,2026-10-01 14:00:00,"1,299.00",paid,extra
P005,000126,13800138003,S03,广州,2026-10-01 15:00:00,￥88,paid
"""

TICKETS_CSV = """\
ticket_id,phone,openid,app_id,created_time,topic
T001,13805716294,oOpen0001abcd,wxapp01,2026-10-01 00:30:00,退货
T002,,oOpen0002abcd,wxapp01,2026-09-30 16:00:00,物流
T003,0086-13800138001,oOpen0002abcd,,2026-10-01T01:00:00Z,咨询
"""

ECOM_CSV = """\
order_id,platform,buyer_id,receiver_name,receiver_phone,address,order_time,amount
E001,Tmall,tb_alice,张三,138****8000,上海市浦东新区张江路100号,2026-10-01 10:00:00,120.5
E002,jd,jd_bob,李 四,138xxxx8001,北京市朝阳区建国路1号,2026-10-01 11:00:00,80
E003,douyin,t**9,先生,13800138003,广东省广州市天河区天河路2号,2026-10-01 12:00:00,45
"""

#: Known outcome per source: rows_in, accepted, quarantined rows.
EXPECTED_COUNTS = {
    "crm_members": (10, 6, 4),
    "pos_orders": (5, 3, 2),
    "service_tickets": (3, 3, 0),
    "web_events": (4, 4, 0),
    "ecom_orders": (3, 3, 0),
}

#: Every injected problem: (source, row, column, reason); column None for a whole-line problem.
EXPECTED_PROBLEMS = {
    ("crm_members", 4, "register_time", "unparseable_datetime"),
    ("crm_members", 6, "member_id", "null_required"),
    ("crm_members", 8, "member_id", "duplicate_key"),
    ("crm_members", 9, "birth_year", "unparseable_int"),
    ("crm_members", 9, "birthday", "unparseable_date"),
    ("crm_members", 9, "marketing_opt_out", "unparseable_bool"),
    ("pos_orders", 3, "amount", "negative_amount"),
    ("pos_orders", 4, None, "bad_column_count"),
}


def web_events_table() -> pa.Table:
    """The web_events Parquet table: ids as strings, a naive and a UTC timestamp, native ints."""
    return pa.table(
        {
            "event_id": ["W1", "W2", "W3", "W4"],
            "cookie_id": ["CK-AAAA01", "ck-aaaa01", None, "0"],
            "device_id": [
                "AEBE52E7-03EE-455A-B3C4-E57283966239",
                "00000000-0000-0000-0000-000000000000",
                "unknown",
                None,
            ],
            "member_id": ["000123", None, "m-9", "000124"],
            "event_time": pa.array(
                pd.to_datetime(
                    ["2026-10-01 08:00", "2026-10-01 09:00", "2026-10-01 10:00", "2026-10-01 11:00"]
                ),
                pa.timestamp("us"),
            ),
            "sent_at": pa.array(
                pd.to_datetime(["2026-10-01 00:00"] * 4).tz_localize("UTC"),
                pa.timestamp("us", tz="UTC"),
            ),
            "n_items": pa.array([1, 2, None, 4], pa.int64()),
            "event_type": pa.array(
                ["page_view", "login", "search", "page_view"]
            ).dictionary_encode(),
        }
    )


def write_dataset(root: Path, sources_yaml: str = SOURCES_YAML) -> Path:
    """Write the mini dataset under ``root`` (``root/raw/...``) and return ``root``."""
    raw = Path(root) / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "sources.yaml").write_text(sources_yaml, encoding="utf-8")
    (raw / "crm_members.csv").write_text(CRM_CSV, encoding="utf-8")
    (raw / "pos_orders.csv").write_bytes(POS_CSV.encode("gbk"))
    (raw / "service_tickets.csv").write_text(TICKETS_CSV, encoding="utf-8")
    (raw / "ecom_orders.csv").write_text(ECOM_CSV, encoding="utf-8")
    pq.write_table(web_events_table(), raw / "web_events.parquet")
    return Path(root)
