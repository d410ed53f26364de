import datetime as dt

from wuji.catalog.models import Plan, Region


def results(response) -> list[dict]:
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_regions_plans_images_on_sale(api):
    assert [r["code"] for r in results(api.get("/api/v1/catalog/regions/"))] == ["cn-ganzhou", "hk"]
    plans = results(api.get("/api/v1/catalog/plans/"))
    assert [p["code"] for p in plans] == ["s1", "s2", "s4"]
    assert plans[0] == {"code": "s1", "name_zh": "入门型 1核1G", "name_en": "Starter 1 vCPU 1 GiB", "vcpus": 1,
                        "memory_mib": 1024, "disk_gib": 20, "bandwidth_mbps": 3}
    assert {i["code"] for i in results(api.get("/api/v1/catalog/images/"))} == {"debian-12", "tiny-linux"}


def test_withdrawn_region_is_not_listed(api):
    Region.objects.filter(code="hk").update(is_active=False)  # staff withdrew it in the console
    assert [r["code"] for r in results(api.get("/api/v1/catalog/regions/"))] == ["cn-ganzhou"]


def test_prices_in_force(api):
    prices = results(api.get("/api/v1/catalog/prices/"))
    assert len(prices) == 18  # 3 plans × 2 regions × 3 cycles
    s1 = {p["cycle"]: p for p in prices if (p["region"], p["plan"]) == ("cn-ganzhou", "s1")}
    assert (s1["monthly"]["amount_fen"], s1["monthly"]["amount_yuan"]) == (2900, "29.00")
    assert (s1["quarterly"]["amount_fen"], s1["yearly"]["amount_fen"]) == (8265, 29000)


def test_quote(api):
    response = api.get("/api/v1/catalog/quote/", {"region": "hk", "plan": "s2", "cycle": "monthly"})
    assert response.status_code == 200
    assert response.json() == {"region": "hk", "plan": "s2", "cycle": "monthly", "amount_fen": 7900,
                               "amount_yuan": "79.00"}


def test_quote_of_unknown_region_names_the_field(api):
    response = api.get("/api/v1/catalog/quote/", {"region": "mars-1", "plan": "s2"})
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid", "region")
    assert "mars-1" in body["message"]


def test_quote_of_a_plan_without_price_is_409(api):
    Plan.objects.create(code="x9", name_zh="无价", name_en="Unpriced", vcpus=1, memory_mib=512, disk_gib=10,
                        bandwidth_mbps=1, is_active=True)
    response = api.get("/api/v1/catalog/quote/", {"region": "hk", "plan": "x9"})
    assert response.status_code == 409
    assert response.json()["code"] == "not_on_sale"


def test_future_price_is_not_in_force_yet(api, catalogue):
    from wuji.catalog.models import Price
    from wuji.core import clock

    Price.objects.create(plan=catalogue["plan"], region=catalogue["region"], cycle="monthly", amount_fen=3300,
                         effective_from=clock.now() + dt.timedelta(days=1))
    prices = results(api.get("/api/v1/catalog/prices/"))
    assert prices[0]["amount_fen"] == 2900


def test_a_nul_character_in_a_code_is_an_unknown_code_not_a_server_error(api):
    """PostgreSQL refuses NUL in a string with an error: the code field answers before the query (schemathesis
    found `?region=%00` as a 500)."""
    response = api.get("/api/v1/catalog/quote/", {"region": "hk\x00", "plan": "s2", "cycle": "monthly"})
    assert response.status_code == 400
    assert response.json()["field"] == "region" and "\x00" not in response.json()["message"]
