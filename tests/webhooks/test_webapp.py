"""The web app's health check."""

from webhooks.app import create_app


def test_healthz_says_ok_when_the_database_answers(runtime):
    client = create_app(runtime, {"TESTING": True}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
