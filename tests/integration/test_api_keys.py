"""API keys can be listed (never the secret) and revoked, over the API and the CLI; a revoked
key is refused at once; the demo reuses its key across restarts instead of minting one each."""

from __future__ import annotations

from datetime import timedelta

from shipflow.api_keys import active_key, brand_keys, create_api_key
from shipflow.cli import main
from shipflow.demo.traffic import demo_api_key
from shipflow.store.db import unit_of_work


def _spare_key(runtime, brand_id: str) -> tuple[str, str]:
    """A second key of the brand, made a second after the first: (its id, the key)."""
    runtime.clock.advance(timedelta(seconds=1))
    with unit_of_work(runtime.sessions) as session:
        key = create_api_key(session, brand_id, "spare")
        session.flush()
        return active_key(session, key).id, key


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_api_lists_a_brands_keys_without_their_secret(client, brands, runtime):
    spare_id, spare = _spare_key(runtime, brands["a"]["id"])
    response = client.get("/api/v1/api-keys", headers=brands["a"]["headers"])
    assert response.status_code == 200
    listed = response.json["data"]
    assert [k["name"] for k in listed] == ["spare", "test"]
    assert listed[0] == {
        **listed[0],
        "id": spare_id,
        "prefix": spare[:10],
        "revoked_at": None,
    }
    assert listed[0]["created_at"]
    body = response.get_data(as_text=True)
    assert spare not in body and brands["a"]["key"] not in body and "hash" not in body
    theirs = client.get("/api/v1/api-keys", headers=brands["b"]["headers"]).json["data"]
    assert [k["id"] for k in theirs] != [] and spare_id not in {k["id"] for k in theirs}


def test_a_revoked_key_is_refused_at_once_and_only_its_brand_may_revoke_it(client, brands, runtime):
    spare_id, spare = _spare_key(runtime, brands["a"]["id"])
    url = f"/api/v1/api-keys/{spare_id}"
    assert client.delete(url, headers=brands["b"]["headers"]).status_code == 404
    assert client.get("/api/v1/orders", headers=_auth(spare)).status_code == 200

    response = client.delete(url, headers=brands["a"]["headers"])
    assert response.status_code == 200 and response.json["revoked_at"]
    refused = client.get("/api/v1/orders", headers=_auth(spare))
    assert refused.status_code == 401
    assert refused.content_type == "application/problem+json"
    again = client.delete(url, headers=brands["a"]["headers"])
    assert again.json["revoked_at"] == response.json["revoked_at"]
    listed = client.get("/api/v1/api-keys", headers=brands["a"]["headers"]).json["data"]
    assert {k["id"]: k["revoked_at"] for k in listed}[spare_id] == response.json["revoked_at"]
    assert client.get("/api/v1/orders", headers=brands["a"]["headers"]).status_code == 200
    missing = client.delete("/api/v1/api-keys/key_nope", headers=brands["a"]["headers"])
    assert missing.status_code == 404 and "API key" in missing.json["detail"]


def test_the_cli_lists_and_revokes_keys(runner, client, brands, runtime):
    spare_id, spare = _spare_key(runtime, brands["a"]["id"])
    env = {"SHIPFLOW_DATABASE_URL": runtime.settings.database_url}
    listed = runner.invoke(main, ["api-key", "list", "--brand", "brand-a"], env=env)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 2 and lines[0].startswith(spare_id) and spare[:10] in lines[0]
    assert "spare" in lines[0] and "active" in lines[0] and spare not in listed.output

    revoked = runner.invoke(main, ["api-key", "revoke", spare_id], env=env)
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/orders", headers=_auth(spare)).status_code == 401
    listed = runner.invoke(main, ["api-key", "list", "--brand", "brand-a"], env=env)
    assert "revoked" in listed.output.splitlines()[0]
    unknown = runner.invoke(main, ["api-key", "revoke", "key_nope"], env=env)
    assert unknown.exit_code == 2 and "no API key 'key_nope'" in unknown.output


def test_the_demo_reuses_its_api_key_until_it_is_revoked(runtime, brands, tmp_path):
    brand_id = brands["a"]["id"]
    with unit_of_work(runtime.sessions) as session:
        first = demo_api_key(session, brand_id, tmp_path)
    with unit_of_work(runtime.sessions) as session:
        assert demo_api_key(session, brand_id, tmp_path) == first
        assert len(brand_keys(session, brand_id)) == 2  # the fixture's and the demo's
        active_key(session, first).revoked_at = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        replaced = demo_api_key(session, brand_id, tmp_path)
    with unit_of_work(runtime.sessions) as session:
        assert replaced != first and demo_api_key(session, brand_id, tmp_path) == replaced
        assert demo_api_key(session, brands["b"]["id"], tmp_path) != replaced  # not B's
