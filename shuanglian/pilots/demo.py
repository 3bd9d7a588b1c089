"""A dozen demo pilot platforms (plausible, not real entries; every one is marked `is_demo` and
named “（演示）”), and the demo `pilot` user linked to the first. Safe to run again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.pilots import service
from shuanglian.pilots.models import PilotPlatform, PlatformManager

# name, operator, level, province, city, industries, IPC, services, capacity, equipment
DEMO_PLATFORMS: tuple[tuple[Any, ...], ...] = (
    (
        "辽宁精细化工中试基地（演示）",
        "沈阳化工研究院（演示）",
        "provincial",
        "辽宁",
        "沈阳",
        ["26"],
        ["C07C", "C08F"],
        ["pilot", "scale_up", "testing"],
        3,
        "500L/2000L 反应釜、精馏塔、喷雾干燥",
    ),
    (
        "长三角新能源材料中试平台（演示）",
        "江苏省产业技术研究院（演示）",
        "national",
        "江苏",
        "苏州",
        ["38", "30"],
        ["H01M", "C01B"],
        ["lab", "pilot", "testing"],
        4,
        "正极材料烧结线、扣电/软包电池试制线",
    ),
    (
        "粤港澳集成电路工艺验证平台（演示）",
        "广东省半导体研究院（演示）",
        "national",
        "广东",
        "广州",
        ["39"],
        ["H01L"],
        ["pilot", "testing"],
        2,
        "8 英寸工艺线、可靠性测试",
    ),
    (
        "浙江生物医药中试平台（演示）",
        "浙江大学杭州国际科创中心（演示）",
        "provincial",
        "浙江",
        "杭州",
        ["27"],
        ["A61K", "C12N"],
        ["lab", "pilot"],
        2,
        "GMP 发酵罐 200L、纯化系统",
    ),
    (
        "山东高端装备工艺放大中心（演示）",
        "山东省机械设计研究院（演示）",
        "provincial",
        "山东",
        "济南",
        ["34", "35"],
        ["B23K", "B21D"],
        ["scale_up", "testing"],
        3,
        "激光焊接工作站、伺服压力机",
    ),
    (
        "内蒙古稀土功能材料中试平台（演示）",
        "包头稀土研究院（演示）",
        "national",
        "内蒙古",
        "包头",
        ["32"],
        ["C22B", "H01F"],
        ["pilot", "scale_up"],
        2,
        "萃取槽组、真空熔炼炉",
    ),
    (
        "四川先进陶瓷中试线（演示）",
        "成都市新材料中试服务中心（演示）",
        "municipal",
        "四川",
        "成都",
        ["30"],
        ["C04B"],
        ["lab", "pilot"],
        1,
        "隧道窑、等静压机",
    ),
    (
        "湖北光电子器件中试平台（演示）",
        "武汉光谷中试服务中心（演示）",
        "provincial",
        "湖北",
        "武汉",
        ["39", "40"],
        ["G02B", "H01S"],
        ["pilot", "testing"],
        2,
        "光纤拉丝塔、器件封装线",
    ),
    (
        "河南农产品加工中试基地（演示）",
        "河南省农业科学院（演示）",
        "provincial",
        "河南",
        "郑州",
        ["13", "14"],
        ["A23L"],
        ["lab", "pilot"],
        3,
        "挤压膨化线、冻干机",
    ),
    (
        "北京智能传感中试平台（演示）",
        "北京市科学技术研究院（演示）",
        "municipal",
        "北京",
        "北京",
        ["40", "39"],
        ["G01K", "G01N"],
        ["pilot", "testing"],
        2,
        "MEMS 封装、环境可靠性试验箱",
    ),
    (
        "安徽新型储能中试平台（演示）",
        "合肥综合性国家科学中心能源研究院（演示）",
        "national",
        "安徽",
        "合肥",
        ["38"],
        ["H01M", "H02J"],
        ["pilot", "scale_up", "testing"],
        3,
        "储能电池模组线、PCS 测试台",
    ),
    (
        "陕西航空复合材料中试中心（演示）",
        "西安市复合材料中试服务中心（演示）",
        "municipal",
        "陕西",
        "西安",
        ["37", "29"],
        ["B29C", "C08J"],
        ["pilot", "testing"],
        1,
        "热压罐、自动铺丝机",
    ),
)


def seed_pilots_demo(session: Session) -> dict[str, Any]:
    """Create the demo platforms that are missing and link the demo `pilot` user to the first."""
    created = 0
    for (
        name,
        operator,
        level,
        province,
        city,
        inds,
        ipcs,
        services,
        capacity,
        equipment,
    ) in DEMO_PLATFORMS:
        if session.scalar(select(func.count()).where(PilotPlatform.name == name)):
            continue
        service.create_platform(
            session,
            actor=None,
            is_demo=True,
            data=service.PlatformInput(
                name=name,
                operator=operator,
                level=level,
                province=province,
                city=city,
                industries=inds,
                ipc_classes=ipcs,
                services=services,
                capacity=capacity,
                equipment=equipment,
                fees="按批次报价，演示数据",
                contact_name="平台服务台（演示）",
                description="演示数据：用于展示中试平台登记、推荐与预约流程。",
            ),
        )
        created += 1
    linked = False
    pilot = session.scalar(
        select(User).where(User.username == "pilot", User.role == perm.PILOT_PLATFORM)
    )
    first = session.scalar(select(PilotPlatform).where(PilotPlatform.name == DEMO_PLATFORMS[0][0]))
    if (
        pilot is not None
        and first is not None
        and not session.scalar(select(func.count()).where(PlatformManager.user_id == pilot.id))
    ):
        service.link_manager(
            session, actor=None, platform_id=first.id, user_id=pilot.id, system=True
        )
        linked = True
    return {"created": created, "linked_pilot_user": linked}
