"""Issue 7 coverage (decision 0044): every published agreement version over the API, as the portal lists them."""

from rest_framework.test import APIClient

from wuji.agreements import services

from .conftest import REVISED_TEXT, publish_revision


def test_versions_are_public_newest_effective_first_with_their_text(catalogue, frozen):
    revised = publish_revision(days=7)
    body = APIClient().get("/api/v1/agreement/versions/").json()
    labels = [v["version"] for v in body["results"]]
    assert labels == [v.version for v in services.versions()] and labels[0] == revised.version
    one = APIClient().get(f"/api/v1/agreement/versions/{revised.version}/").json()
    assert one["body"] == REVISED_TEXT and one["version"] == revised.version


def test_an_unknown_version_is_not_found(catalogue):
    response = APIClient().get("/api/v1/agreement/versions/no-such-version/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
