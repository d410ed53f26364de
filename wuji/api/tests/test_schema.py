import re

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator


def test_openapi_schema_generates_and_validates_without_warnings(db, tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text("utf-8")
    for path in ["/api/v1/orders/", "/api/v1/servers/{id}/reinstall/", "/api/v1/instructions/export.csv",
                 "/api/v1/servers/{id}/reset-password/",
                 "/api/v1/topups/{out_trade_no}/", "/api/v1/catalog/quote/"]:
        assert f"{path}:" in schema
    assert "Idempotency-Key" in schema and "wujiSignature:" in schema and "WUJI-HMAC-SHA256 Credential=" in schema


# --- issue 7: schema (decision 0045): every operation documents the errors it can give -----------------

MUTATING = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in MUTATING | {"get", "head", "options"}:
                yield path, method, operation


def test_the_schema_covers_every_operation(schema):
    assert len(list(operations(schema))) > 100


def test_every_operation_documents_the_platform_errors_with_the_error_body(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        expected = {"429"}
        if {} not in operation.get("security", [{}]):
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if method in MUTATING:
            expected |= {"400", "409", "422"}
        if "requestBody" in operation:
            expected |= {"400", "422"}
        missing = expected - set(responses)
        assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"
        for code in expected:
            body = responses[code]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, (method, path, code)


def test_every_response_documents_the_request_id(schema):
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            assert "X-Request-Id" in response.get("headers", {}), (method, path, code)


def test_every_mutating_operation_takes_exactly_one_required_idempotency_key(schema):
    for path, method, operation in operations(schema):
        headers = [p for p in operation.get("parameters", [])
                   if p["in"] == "header" and p["name"].lower() == "idempotency-key"]
        if method in MUTATING and path != "/api/v1/abuse/complaints/":  # the partner feed dedups by its own id
            assert len(headers) == 1 and headers[0]["required"], (method, path)
        else:
            assert headers == [], (method, path)


def test_declared_responses_are_kept(schema):
    """A view's own description of a status (402 from orders) is not overwritten by the generic one."""
    responses = schema["paths"]["/api/v1/orders/"]["post"]["responses"]
    assert {"201", "402"} <= set(responses)
    assert responses["201"]["content"]["application/json"]["schema"] != {"$ref": "#/components/schemas/Error"}


def test_public_operations_do_not_document_authentication_errors(schema):
    operation = schema["paths"]["/api/v1/agreement/"]["get"]
    assert {} in operation["security"] and "401" not in operation["responses"]


def test_operation_ids_are_unique_and_readable(schema):
    ids = [operation["operationId"] for _path, _method, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    assert {"servers_list", "servers_reboot_create", "orders_create", "balance_retrieve"} <= set(ids)
    assert all(re.fullmatch(r"[a-z0-9_]+", operation_id) for operation_id in ids)


def test_the_interactive_docs_are_public_and_use_only_vendored_files_under_the_strict_policy(client, db):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "<style" not in html and "<script>" not in html and "//cdn" not in html
    assert "style-src 'self';" in page["Content-Security-Policy"]
    init = client.get("/api/docs/?script=")
    assert init.status_code == 200 and init["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in init.content.decode()
    assert client.get("/api/v1/schema/").status_code == 200  # the schema it reads is public too


def test_the_api_key_page_links_to_the_interactive_docs(client, customer):
    client.force_login(customer)
    page = client.get("/api-keys/").content.decode()
    assert 'href="/api/docs/"' in page
