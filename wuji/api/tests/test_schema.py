from django.core.management import call_command


def test_openapi_schema_generates_and_validates_without_warnings(db, tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text("utf-8")
    for path in ["/api/v1/orders/", "/api/v1/servers/{id}/reinstall/", "/api/v1/instructions/export.csv",
                 "/api/v1/servers/{id}/reset-password/",
                 "/api/v1/topups/{out_trade_no}/", "/api/v1/catalog/quote/"]:
        assert f"{path}:" in schema
    assert "Idempotency-Key" in schema and "wujiSignature:" in schema and "WUJI-HMAC-SHA256 Credential=" in schema
