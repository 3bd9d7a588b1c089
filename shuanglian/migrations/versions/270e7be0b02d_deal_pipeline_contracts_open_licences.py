"""deal pipeline, contracts, open licences

Adds technology managers, deals (items, timeline, next actions, documents, services),
contracts with their payment schedules, payments and inventor payouts, distribution rules and
open-licence declarations. A listing's signed count and amount are computed from contract rows
from now on, so its two counter columns go; counts typed into them before are not carried over
(no contract rows stand behind them). The columns are dropped with plain ALTER TABLE (SQLite
3.35+ and PostgreSQL) rather than a batch copy, which would lose the listing table's expression
indexes on SQLite.

Revision ID: 270e7be0b02d
Revises: a1d17c0e0b01
Create Date: 2026-12-05 18:06:45.370607
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "270e7be0b02d"
down_revision = "a1d17c0e0b01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deal_distribution_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("inventor_pct", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("tto_pct", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("institution_pct", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("inventor_equity_pct", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_deal_distribution_rules_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_distribution_rules")),
        sa.UniqueConstraint(
            "institution_id", name=op.f("uq_deal_distribution_rules_institution_id")
        ),
    )
    op.create_table(
        "deal_managers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("ipc_fields", sa.JSON(), nullable=False),
        sa.Column("industry_fields", sa.JSON(), nullable=False),
        sa.Column("certification_level", sa.String(length=20), nullable=True),
        sa.Column("certified_by", sa.String(length=200), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_deal_managers_institution_id_institutions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_deal_managers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_managers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_deal_managers_user_id")),
    )
    with op.batch_alter_table("deal_managers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deal_managers_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "deal_open_licences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("fee_mode", sa.String(length=20), nullable=False),
        sa.Column("fee_amount", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("royalty_rate", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("payment_method", sa.String(length=300), nullable=False),
        sa.Column("term_years", sa.Integer(), nullable=False),
        sa.Column("evaluation_report", sa.Boolean(), nullable=False),
        sa.Column("evaluation_report_ref", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawal_note", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_deal_open_licences_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_deal_open_licences_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["market_listings.id"],
            name=op.f("fk_deal_open_licences_listing_id_market_listings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patent_id"],
            ["patents.id"],
            name=op.f("fk_deal_open_licences_patent_id_patents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_open_licences")),
    )
    with op.batch_alter_table("deal_open_licences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deal_open_licences_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deal_open_licences_patent_id"), ["patent_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deal_open_licences_status"), ["status"], unique=False)

    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("stage_changed_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=True),
        sa.Column("inquiry_id", sa.Integer(), nullable=True),
        sa.Column("challenge_id", sa.Integer(), nullable=True),
        sa.Column("closed_reason", sa.String(length=30), nullable=True),
        sa.Column("closed_note", sa.Text(), nullable=True),
        sa.Column("pilot_booking_ref", sa.String(length=100), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_deals_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_deals_enterprise_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inquiry_id"],
            ["market_inquiries.id"],
            name=op.f("fk_deals_inquiry_id_market_inquiries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_deals_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["deal_managers.id"],
            name=op.f("fk_deals_manager_id_deal_managers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["push_id"],
            ["inventory_pushes.id"],
            name=op.f("fk_deals_push_id_inventory_pushes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
    )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deals_challenge_id"), ["challenge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_deals_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deals_manager_id"), ["manager_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_stage"), ["stage"], unique=False)

    op.create_table(
        "deal_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_deal_activities_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_activities_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_activities")),
    )
    with op.batch_alter_table("deal_activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_activities_deal_id"), ["deal_id"], unique=False)

    op.create_table(
        "deal_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("open_licence_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subtype", sa.String(length=30), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=True),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("technical_income", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("payment_mode", sa.String(length=20), nullable=False),
        sa.Column("royalty_rate", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("royalty_minimum", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("registration_number", sa.String(length=40), nullable=True),
        sa.Column("seller_nature", sa.String(length=20), nullable=True),
        sa.Column("buyer_nature", sa.String(length=20), nullable=True),
        sa.Column("seller_region_code", sa.String(length=6), nullable=True),
        sa.Column("buyer_region_code", sa.String(length=6), nullable=True),
        sa.Column("seller_credit_code", sa.String(length=18), nullable=True),
        sa.Column("buyer_credit_code", sa.String(length=18), nullable=True),
        sa.Column("seller_country", sa.String(length=40), nullable=False),
        sa.Column("buyer_country", sa.String(length=40), nullable=False),
        sa.Column("tech_field", sa.String(length=100), nullable=True),
        sa.Column("ip_type", sa.String(length=30), nullable=True),
        sa.Column("expected_investment", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("expected_output", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("notice_text", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_deal_contracts_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_contracts_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_deal_contracts_enterprise_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_deal_contracts_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["market_listings.id"],
            name=op.f("fk_deal_contracts_listing_id_market_listings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["open_licence_id"],
            ["deal_open_licences.id"],
            name=op.f("fk_deal_contracts_open_licence_id_deal_open_licences"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patent_id"],
            ["patents.id"],
            name=op.f("fk_deal_contracts_patent_id_patents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_contracts")),
        sa.UniqueConstraint("number", name=op.f("uq_deal_contracts_number")),
    )
    with op.batch_alter_table("deal_contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_contracts_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_deal_contracts_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deal_contracts_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deal_contracts_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_deal_contracts_listing_id"), ["listing_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deal_contracts_open_licence_id"), ["open_licence_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deal_contracts_patent_id"), ["patent_id"], unique=False
        )

    op.create_table(
        "deal_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_documents_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_deal_documents_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_documents")),
    )
    with op.batch_alter_table("deal_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_documents_deal_id"), ["deal_id"], unique=False)

    op.create_table(
        "deal_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_items_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["market_listings.id"],
            name=op.f("fk_deal_items_listing_id_market_listings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patent_id"],
            ["patents.id"],
            name=op.f("fk_deal_items_patent_id_patents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_items")),
    )
    with op.batch_alter_table("deal_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_items_deal_id"), ["deal_id"], unique=False)

    op.create_table(
        "deal_next_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_deal_next_actions_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_next_actions_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_next_actions")),
    )
    with op.batch_alter_table("deal_next_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_next_actions_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deal_next_actions_due_on"), ["due_on"], unique=False)

    op.create_table(
        "deal_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("finished_on", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_services_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_services")),
    )
    with op.batch_alter_table("deal_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_services_deal_id"), ["deal_id"], unique=False)

    op.create_table(
        "deal_inventor_payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["deal_contracts.id"],
            name=op.f("fk_deal_inventor_payouts_contract_id_deal_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_inventor_payouts")),
    )
    with op.batch_alter_table("deal_inventor_payouts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deal_inventor_payouts_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "deal_payment_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["deal_contracts.id"],
            name=op.f("fk_deal_payment_schedule_contract_id_deal_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_payment_schedule")),
    )
    with op.batch_alter_table("deal_payment_schedule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deal_payment_schedule_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "deal_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("costs", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["deal_contracts.id"],
            name=op.f("fk_deal_payments_contract_id_deal_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_payments")),
    )
    with op.batch_alter_table("deal_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deal_payments_contract_id"), ["contract_id"], unique=False
        )

    op.drop_column("market_listings", "deals_signed")
    op.drop_column("market_listings", "signed_amount")


def downgrade() -> None:
    op.add_column(
        "market_listings",
        sa.Column("signed_amount", sa.Numeric(18, 4), nullable=False, server_default="0"),
    )
    op.add_column(
        "market_listings",
        sa.Column("deals_signed", sa.Integer(), nullable=False, server_default="0"),
    )

    with op.batch_alter_table("deal_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_payments_contract_id"))

    op.drop_table("deal_payments")
    with op.batch_alter_table("deal_payment_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_payment_schedule_contract_id"))

    op.drop_table("deal_payment_schedule")
    with op.batch_alter_table("deal_inventor_payouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_inventor_payouts_contract_id"))

    op.drop_table("deal_inventor_payouts")
    with op.batch_alter_table("deal_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_services_deal_id"))

    op.drop_table("deal_services")
    with op.batch_alter_table("deal_next_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_next_actions_due_on"))
        batch_op.drop_index(batch_op.f("ix_deal_next_actions_deal_id"))

    op.drop_table("deal_next_actions")
    with op.batch_alter_table("deal_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_items_deal_id"))

    op.drop_table("deal_items")
    with op.batch_alter_table("deal_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_documents_deal_id"))

    op.drop_table("deal_documents")
    with op.batch_alter_table("deal_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_contracts_patent_id"))
        batch_op.drop_index(batch_op.f("ix_deal_contracts_open_licence_id"))
        batch_op.drop_index(batch_op.f("ix_deal_contracts_listing_id"))
        batch_op.drop_index(batch_op.f("ix_deal_contracts_kind"))
        batch_op.drop_index(batch_op.f("ix_deal_contracts_institution_id"))
        batch_op.drop_index(batch_op.f("ix_deal_contracts_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_deal_contracts_deal_id"))

    op.drop_table("deal_contracts")
    with op.batch_alter_table("deal_activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_activities_deal_id"))

    op.drop_table("deal_activities")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deals_stage"))
        batch_op.drop_index(batch_op.f("ix_deals_manager_id"))
        batch_op.drop_index(batch_op.f("ix_deals_institution_id"))
        batch_op.drop_index(batch_op.f("ix_deals_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_deals_challenge_id"))

    op.drop_table("deals")
    with op.batch_alter_table("deal_open_licences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_open_licences_status"))
        batch_op.drop_index(batch_op.f("ix_deal_open_licences_patent_id"))
        batch_op.drop_index(batch_op.f("ix_deal_open_licences_institution_id"))

    op.drop_table("deal_open_licences")
    with op.batch_alter_table("deal_managers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_managers_institution_id"))

    op.drop_table("deal_managers")
    op.drop_table("deal_distribution_rules")
