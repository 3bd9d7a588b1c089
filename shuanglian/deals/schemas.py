"""Vocabularies and validated input shapes of the deal pipeline (validation lives here once).

Every shape is a Pydantic model whose messages are zh-CN first with English after; `parse`
turns a failure into the `DomainError` that pages, API and CLI all render, naming the field.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shuanglian.errors import DomainError
from shuanglian.importing import BOUND_MESSAGES
from shuanglian.web.deps import DbId
from shuanglian.web.schemas import Code, Money, Percent, SafeStr

CERT_LEVELS = {
    "junior": ("初级", "Junior"),
    "intermediate": ("中级", "Intermediate"),
    "senior": ("高级", "Senior"),
}
SOURCES = {
    "push": ("推送意向", "Push with intent"),
    "inquiry": ("成果咨询", "Inquiry"),
    "challenge": ("揭榜挂帅", "Verified challenge"),
    "manual": ("手工创建", "Created by hand"),
}
CLOSE_REASONS = {
    "price": ("价格未谈拢", "No agreement on price"),
    "technology": ("技术不满足需求", "Technology does not fit"),
    "ip": ("知识产权问题", "IP problem"),
    "funding": ("企业资金不足", "Enterprise lacks funds"),
    "priority": ("企业战略调整", "Enterprise changed priorities"),
    "competitor": ("选择其他方案", "Chose another solution"),
    "no_response": ("对方无回应", "No response"),
    "other": ("其他", "Other"),
}
ACTIVITY_KINDS = {
    "stage": ("阶段变更", "Stage change"),
    "note": ("备注", "Note"),
    "call": ("电话", "Call"),
    "meeting": ("会面", "Meeting"),
    "visit": ("实地考察", "Site visit"),
    "email": ("邮件", "E-mail"),
    "system": ("系统", "System"),
}
DOCUMENT_KINDS = {
    "nda": ("保密协议", "NDA"),
    "due_diligence": ("尽职调查报告", "Due-diligence report"),
    "valuation": ("评估报告", "Valuation report"),
    "term_sheet": ("合作意向书", "Term sheet"),
    "contract": ("合同文本", "Contract"),
    "other": ("其他", "Other"),
}
# Extension → MIME type; the first bytes are checked too (a renamed executable is refused).
DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
DOCUMENT_MAGIC = {
    ".pdf": (b"%PDF-",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

SERVICE_KINDS = {
    "valuation": ("价值评估", "Valuation"),
    "company": ("公司设立", "Company formation"),
    "financing": ("融资", "Financing round"),
    "pilot": ("中试预约", "Pilot booking"),
    "subsidy": ("政策/补贴申报", "Policy or subsidy application"),
}
SERVICE_STATUSES = {
    "planned": ("计划中", "Planned"),
    "in_progress": ("进行中", "In progress"),
    "done": ("已完成", "Done"),
    "cancelled": ("已取消", "Cancelled"),
}
CONTRACT_KINDS = {
    "transfer": ("技术转让", "Technology transfer"),
    "licence": ("专利实施许可", "Patent licence"),
    "open_licence": ("开放许可", "Open licence"),
    "equity": ("作价入股/技术增资", "Equity contribution"),
    "development": ("技术开发", "Technology development"),
    "consulting": ("技术咨询", "Technology consulting"),
    "service": ("技术服务", "Technology service"),
}
CONTRACT_SUBTYPES: dict[str, dict[str, tuple[str, str]]] = {
    "transfer": {
        "patent_right": ("专利权转让", "Patent right"),
        "application_right": ("专利申请权转让", "Patent application right"),
    },
    "licence": {
        "exclusive": ("独占许可", "Exclusive"),
        "sole": ("排他许可", "Sole"),
        "ordinary": ("普通许可", "Ordinary"),
    },
    "open_licence": {"ordinary": ("普通许可（开放许可）", "Ordinary (open licence)")},
    "equity": {
        "contribution": ("作价入股", "Equity contribution"),
        "capital_increase": ("技术增资", "Capital increase"),
    },
    "development": {
        "commissioned": ("委托开发", "Commissioned"),
        "cooperative": ("合作开发", "Cooperative"),
    },
    "consulting": {"general": ("技术咨询", "Consulting")},
    "service": {"general": ("技术服务", "Service")},
}
PAYMENT_MODES = {
    "lump_sum": ("一次总付", "Lump sum"),
    "instalments": ("分期支付", "Instalments"),
    "royalty": ("提成支付", "Royalties"),
}
PARTY_NATURES = {
    "enterprise": ("企业", "Enterprise"),
    "research_institute": ("科研机构", "Research institute"),
    "university": ("高校", "University"),
    "medical": ("医疗卫生机构", "Medical institution"),
    "government": ("机关团体", "Public body"),
    "individual": ("个人", "Individual"),
    "other": ("其他", "Other"),
}
IP_TYPES = {
    "invention": ("发明专利", "Invention patent"),
    "utility_model": ("实用新型专利", "Utility model"),
    "design": ("外观设计专利", "Design"),
    "software": ("计算机软件著作权", "Software copyright"),
    "know_how": ("技术秘密", "Know-how"),
    "other": ("其他", "Other"),
    "none": ("未涉及", "None"),
}
# GB/T 2260 province-level prefixes (the first two digits of a 6-digit 行政区划代码).
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
# Contract kinds whose registration form asks for expected new investment and output.
ASKS_EXPECTED = frozenset({"transfer", "licence", "open_licence", "equity"})

_REGION = re.compile(r"^\d{6}$")
M = TypeVar("M", bound=BaseModel)


def label(vocab: dict[str, tuple[str, str]], key: str | None, lang: str = "zh") -> str:
    """A vocabulary key's name for people ("" for None, the key itself when unknown)."""
    if key is None:
        return ""
    zh, en = vocab.get(key, (key, key))
    return en if lang == "en" else zh


def one_of(value: str | None, vocab: dict[str, Any], name: str) -> str:
    """The value when it is a key of `vocab`, else a sentence listing the allowed keys."""
    if value not in vocab:
        raise ValueError(f"{name}须为 {'/'.join(vocab)} 之一 (must be one of {', '.join(vocab)})")
    return value


def check_region_code(code: str | None) -> str | None:
    """A GB/T 2260 six-digit code with a known province prefix, or None."""
    if code is None or not code.strip():
        return None
    code = code.strip()
    if not _REGION.match(code) or code[:2] not in PROVINCE_PREFIXES:
        raise ValueError(
            "行政区划代码须为 GB/T 2260 的 6 位数字，如 210200 (region code: 6 digits, GB/T 2260)"
        )
    return code


def parse(model: type[M], data: dict[str, Any] | BaseModel) -> M:
    """Validate `data` into `model`; a failure becomes a DomainError naming the field."""
    if isinstance(data, model):
        return data
    raw = data.model_dump() if isinstance(data, BaseModel) else data
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        raise DomainError(_message(first), field=field) from None


def _message(error: Any) -> str:
    """A Pydantic error as a sentence people read: zh-CN first, English after.

    Our own validators already speak both languages; Pydantic's built-in checks (required,
    number, date, length) speak English only, so the common ones are said again here.
    """
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "必填 (required)"
    if kind == "string_too_long":
        n = ctx.get("max_length")
        return f"过长，最多 {n} 个字 (too long: at most {n} characters)"
    if kind in BOUND_MESSAGES:
        return BOUND_MESSAGES[kind].format(**ctx)
    if kind.startswith("decimal") or kind.startswith("float"):
        return "须为数字，如 12.5 (must be a number, e.g. 12.5)"
    if kind.startswith("int"):
        return "须为整数 (must be a whole number)"
    if kind.startswith("date") or kind.startswith("datetime"):
        return "日期格式应为 YYYY-MM-DD (date as YYYY-MM-DD)"
    if kind.startswith("bool"):
        return "须为是或否 (must be yes or no)"
    if kind in ("greater_than_equal", "greater_than"):
        n = ctx.get("ge", ctx.get("gt"))
        return f"须不小于 {n} (must be ≥ {n})"
    if kind in ("less_than_equal", "less_than"):
        n = ctx.get("le", ctx.get("lt"))
        return f"须不大于 {n} (must be ≤ {n})"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项 (too many items)"
    if kind == "extra_forbidden":
        return "不认识的字段 (unknown field)"
    return f"输入无效 (invalid input: {error.get('msg', kind)})"


def _amount(value: Decimal | None, name: str) -> Decimal | None:
    if value is not None and (not value.is_finite() or value < 0):
        raise ValueError(f"{name}须大于或等于 0 (amount must be ≥ 0)")
    return value


def _pct(value: Decimal | None, name: str) -> Decimal | None:
    if value is not None and (not value.is_finite() or not 0 <= value <= 100):
        raise ValueError(f"{name}须在 0–100% 之间 (share must be 0–100 %)")
    return value


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class ManagerIn(_In):
    """A manager's profile; fields are IPC and GB/T 4754 codes the engine can compare."""

    user_id: DbId
    name: SafeStr = Field(min_length=1, max_length=100)
    organisation: SafeStr = Field(min_length=1, max_length=200)
    institution_id: DbId | None = None
    ipc_fields: list[Code] = Field(default_factory=list, max_length=30)
    industry_fields: list[Code] = Field(default_factory=list, max_length=30)
    certification_level: Code | None = None
    certified_by: SafeStr | None = Field(default=None, max_length=200)
    languages: list[Code] = Field(default_factory=lambda: ["zh"], max_length=10)
    phone: SafeStr | None = Field(default=None, max_length=40)
    email: SafeStr | None = Field(default=None, max_length=200)
    bio: SafeStr | None = Field(default=None, max_length=5000)

    @field_validator("certification_level")
    @classmethod
    def _cert(cls, v: str | None) -> str | None:
        return None if not v else one_of(v, CERT_LEVELS, "认证等级")

    @field_validator("ipc_fields", "industry_fields")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        return [c.strip().upper() for c in v if c and c.strip()]


class DealIn(_In):
    """A new deal: who, what, and where it came from."""

    title: SafeStr = Field(min_length=1, max_length=300)
    institution_id: DbId
    enterprise_id: DbId
    patent_ids: list[DbId] = Field(default_factory=list, max_length=50)
    listing_id: DbId | None = None
    source: Code = "manual"
    push_id: DbId | None = None
    inquiry_id: DbId | None = None
    challenge_id: DbId | None = None
    manager_id: DbId | None = None
    note: SafeStr | None = Field(default=None, max_length=5000)

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        return one_of(v, SOURCES, "来源")

    @model_validator(mode="after")
    def _source_ref(self) -> DealIn:
        needs = {"push": "push_id", "inquiry": "inquiry_id", "challenge": "challenge_id"}
        name = needs.get(self.source)
        if name and getattr(self, name) is None:
            raise DomainError(
                f"来源为“{SOURCES[self.source][0]}”时须给出 {name} ({name} required)", field=name
            )
        return self


class ServiceIn(_In):
    """A service record; `details` is checked against the kind's own shape."""

    kind: Code
    status: Code = "in_progress"
    started_on: date | None = None
    finished_on: date | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        return one_of(v, SERVICE_KINDS, "服务类型")

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        return one_of(v, SERVICE_STATUSES, "状态")

    @model_validator(mode="after")
    def _dates(self) -> ServiceIn:
        if self.started_on and self.finished_on and self.finished_on < self.started_on:
            raise DomainError(
                "完成日期不能早于开始日期 (finished before started)", field="finished_on"
            )
        return self


class ValuationDetails(_In):
    method: SafeStr = Field(min_length=1, max_length=100)  # 收益法 / 市场法 / 成本法
    amount: Money  # 万元
    appraiser: SafeStr | None = Field(default=None, max_length=200)
    report_ref: SafeStr | None = Field(default=None, max_length=100)

    _a = field_validator("amount")(lambda v: _amount(v, "评估值"))


class CompanyDetails(_In):
    name: SafeStr = Field(min_length=1, max_length=200)
    registered_capital: Money  # 万元
    credit_code: SafeStr | None = Field(default=None, max_length=18)  # once registered

    _a = field_validator("registered_capital")(lambda v: _amount(v, "注册资本"))

    @field_validator("credit_code")
    @classmethod
    def _code(cls, v: str | None) -> str | None:
        if not v:
            return None
        from shuanglian.enterprises.validators import validate_credit_code

        return validate_credit_code(v)


class FinancingDetails(_In):
    investor: SafeStr = Field(min_length=1, max_length=200)
    amount: Money  # 万元
    instrument: SafeStr = Field(min_length=1, max_length=50)  # 股权 / 可转债 / 贷款 …
    round_name: SafeStr | None = Field(default=None, max_length=50)  # 天使轮, A 轮 …
    on: date

    _a = field_validator("amount")(lambda v: _amount(v, "融资额"))


class PilotDetails(_In):
    platform: SafeStr = Field(min_length=1, max_length=200)
    booking_ref: SafeStr = Field(min_length=1, max_length=100)


class SubsidyDetails(_In):
    programme: SafeStr = Field(min_length=1, max_length=200)
    authority: SafeStr | None = Field(default=None, max_length=200)
    amount: Money | None = None

    _a = field_validator("amount")(lambda v: _amount(v, "申报金额"))


SERVICE_DETAILS: dict[str, type[_In]] = {
    "valuation": ValuationDetails,
    "company": CompanyDetails,
    "financing": FinancingDetails,
    "pilot": PilotDetails,
    "subsidy": SubsidyDetails,
}


class ScheduleIn(_In):
    due_on: date
    amount: Money
    note: SafeStr | None = Field(default=None, max_length=200)

    _a = field_validator("amount")(lambda v: _amount(v, "应付金额"))


class LicenceDetails(_In):
    field_of_use: SafeStr = Field(min_length=1, max_length=500)
    territory: SafeStr = Field(min_length=1, max_length=200)


class EquityDetails(_In):
    company_name: SafeStr = Field(min_length=1, max_length=200)
    company_credit_code: SafeStr | None = Field(default=None, max_length=18)
    valuation: Money  # 万元, the technology's appraised value
    registered_capital: Money | None = None  # 万元 of the company's capital contributed
    shares: int | None = Field(default=None, ge=0, le=10**15)
    percentage: Percent  # of the company
    equity_date: date
    valuation_report_ref: SafeStr = Field(min_length=1, max_length=100)

    _a = field_validator("valuation", "registered_capital")(lambda v: _amount(v, "金额"))
    _p = field_validator("percentage")(lambda v: _pct(v, "持股比例"))

    @model_validator(mode="after")
    def _stake(self) -> EquityDetails:
        if self.registered_capital is None and self.shares is None:
            raise DomainError(
                "须填写出资额或股数 (registered_capital or shares required)",
                field="registered_capital",
            )
        return self


class WorkDetails(_In):
    subject: SafeStr = Field(min_length=1, max_length=1000)  # deliverables / question / service


CONTRACT_DETAILS: dict[str, type[_In] | None] = {
    "transfer": None,
    "licence": LicenceDetails,
    "open_licence": None,
    "equity": EquityDetails,
    "development": WorkDetails,
    "consulting": WorkDetails,
    "service": WorkDetails,
}


class ContractIn(_In):
    """A contract's common and registration fields; `details` per kind (CONTRACT_DETAILS)."""

    kind: Code
    subtype: Code
    title: SafeStr = Field(min_length=1, max_length=300)
    deal_id: DbId | None = None
    institution_id: DbId | None = None  # from the deal when there is one
    enterprise_id: DbId | None = None
    patent_id: DbId | None = None
    listing_id: DbId | None = None
    signed_on: date
    valid_from: date | None = None
    valid_until: date | None = None
    amount: Money
    technical_income: Money | None = None
    payment_mode: Code = "lump_sum"
    royalty_rate: Percent | None = None
    royalty_minimum: Money | None = None
    schedule: list[ScheduleIn] = Field(default_factory=list, max_length=120)
    details: dict[str, Any] = Field(default_factory=dict)
    registration_number: SafeStr | None = Field(default=None, max_length=40)
    seller_nature: Code | None = None
    buyer_nature: Code | None = None
    seller_region_code: Code | None = None
    buyer_region_code: Code | None = None
    seller_credit_code: SafeStr | None = Field(default=None, max_length=18)
    buyer_credit_code: SafeStr | None = Field(default=None, max_length=18)
    seller_country: SafeStr = Field(default="中国", max_length=40)
    buyer_country: SafeStr = Field(default="中国", max_length=40)
    tech_field: SafeStr | None = Field(default=None, max_length=100)
    ip_type: Code | None = None
    expected_investment: Money | None = None
    expected_output: Money | None = None

    _a = field_validator(
        "amount", "technical_income", "royalty_minimum", "expected_investment", "expected_output"
    )(lambda v: _amount(v, "金额"))
    _p = field_validator("royalty_rate")(lambda v: _pct(v, "提成比例"))
    _r = field_validator("seller_region_code", "buyer_region_code")(check_region_code)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        return one_of(v, CONTRACT_KINDS, "合同类型")

    @field_validator("payment_mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        return one_of(v, PAYMENT_MODES, "支付方式")

    @field_validator("seller_nature", "buyer_nature")
    @classmethod
    def _nature(cls, v: str | None) -> str | None:
        return None if not v else one_of(v, PARTY_NATURES, "当事人性质")

    @field_validator("ip_type")
    @classmethod
    def _ip(cls, v: str | None) -> str | None:
        return None if not v else one_of(v, IP_TYPES, "知识产权类型")

    @field_validator("seller_credit_code", "buyer_credit_code")
    @classmethod
    def _credit(cls, v: str | None) -> str | None:
        if not v:
            return None
        from shuanglian.enterprises.validators import validate_credit_code

        return validate_credit_code(v)

    @model_validator(mode="after")
    def _consistent(self) -> ContractIn:
        if self.subtype not in CONTRACT_SUBTYPES[self.kind]:
            raise DomainError(
                f"合同子类型须为 {'/'.join(CONTRACT_SUBTYPES[self.kind])} 之一 (invalid subtype)",
                field="subtype",
            )
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise DomainError(
                "有效期截止日不能早于起始日 (valid_until before valid_from)", field="valid_until"
            )
        if self.technical_income is not None and self.technical_income > self.amount:
            raise DomainError(
                "技术交易额不能大于合同成交额 (technical income exceeds the amount)",
                field="technical_income",
            )
        if self.payment_mode == "royalty" and self.royalty_rate is None:
            raise DomainError(
                "提成支付须填写提成比例 (royalty_rate required for royalties)", field="royalty_rate"
            )
        if self.payment_mode == "instalments" and not self.schedule:
            raise DomainError(
                "分期支付须填写付款计划 (schedule required for instalments)", field="schedule"
            )
        for row in self.schedule:
            if row.due_on < self.signed_on:
                raise DomainError(
                    "付款日期不能早于合同签订日期 (payment date before contract date)",
                    field="schedule",
                )
        if sum((r.amount for r in self.schedule), Decimal(0)) > self.amount:
            raise DomainError(
                "付款计划合计超过合同金额 (schedule exceeds the contract amount)", field="schedule"
            )
        shape = CONTRACT_DETAILS[self.kind]
        if shape is not None:
            try:
                self.details = parse(shape, self.details).model_dump(mode="json")
            except DomainError as exc:
                raise DomainError(exc.message, field=f"details.{exc.field}") from None
        if self.kind in ("licence", "open_licence") and (
            not self.valid_from or not self.valid_until
        ):
            raise DomainError(
                "许可合同须填写许可期限 (licence term: valid_from and valid_until)",
                field="valid_until",
            )
        return self


class PaymentIn(_In):
    received_on: date
    amount: Money
    costs: Money = Decimal(0)
    reference: SafeStr | None = Field(default=None, max_length=100)

    _a = field_validator("amount", "costs")(lambda v: _amount(v, "金额"))

    @model_validator(mode="after")
    def _net(self) -> PaymentIn:
        if self.costs > self.amount:
            raise DomainError("扣除费用不能大于到账金额 (costs exceed the amount)", field="costs")
        return self


class PayoutIn(_In):
    paid_on: date
    amount: Money
    reference: SafeStr | None = Field(default=None, max_length=100)

    _a = field_validator("amount")(lambda v: _amount(v, "金额"))


class DistributionRuleIn(_In):
    """An institution's shares of net income, in % (cash shares sum to 100)."""

    inventor_pct: Percent
    tto_pct: Percent = Decimal(0)
    institution_pct: Percent
    inventor_equity_pct: Percent
    note: SafeStr | None = Field(default=None, max_length=2000)

    _p = field_validator("inventor_pct", "tto_pct", "institution_pct", "inventor_equity_pct")(
        lambda v: _pct(v, "分配比例")
    )

    @model_validator(mode="after")
    def _sum(self) -> DistributionRuleIn:
        total = self.inventor_pct + self.tto_pct + self.institution_pct
        if total != 100:
            raise DomainError(
                f"发明人、转移机构、单位分配比例之和须为 100%，现为 {total.normalize():f}% "
                "(shares must sum to 100 %)",
                field="inventor_pct",
            )
        return self


class OpenLicenceIn(_In):
    patent_id: DbId
    fee_mode: Code
    fee_amount: Money | None = None
    royalty_rate: Percent | None = None
    payment_method: SafeStr = Field(min_length=1, max_length=300)
    term_years: int = Field(ge=1, le=20)
    evaluation_report: bool = False
    evaluation_report_ref: SafeStr | None = Field(default=None, max_length=100)
    declared_on: date | None = None

    _a = field_validator("fee_amount")(lambda v: _amount(v, "许可使用费"))
    _p = field_validator("royalty_rate")(lambda v: _pct(v, "提成比例"))

    @field_validator("fee_mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        return one_of(v, {"lump_sum": 1, "royalty": 1}, "付费方式")

    @model_validator(mode="after")
    def _fee(self) -> OpenLicenceIn:
        if self.fee_mode == "lump_sum" and self.fee_amount is None:
            raise DomainError(
                "一次性付费须填写许可使用费 (fee_amount required)", field="fee_amount"
            )
        if self.fee_mode == "royalty" and self.royalty_rate is None:
            raise DomainError(
                "提成付费须填写提成比例 (royalty_rate required)", field="royalty_rate"
            )
        return self


class TakeLicenceIn(_In):
    """An enterprise's written notice of taking an open licence, with its payment."""

    enterprise_id: DbId
    notice: SafeStr = Field(min_length=1, max_length=5000)
    notice_on: date
    paid_amount: Money
    payment_reference: SafeStr = Field(min_length=1, max_length=100)
    buyer_region_code: Code | None = None

    _a = field_validator("paid_amount")(lambda v: _amount(v, "付款金额"))
    _r = field_validator("buyer_region_code")(check_region_code)
