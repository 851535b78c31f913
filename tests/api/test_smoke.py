def test_me_and_caseload(client_for, world):
    client = client_for("care_worker")
    me = client.get("/api/v1/me")
    assert me.status_code == 200, me.content
    assert me.json()["memberships"][0]["organization"]["name"] == "登戸地域包括支援センター"
    cases = client.get("/api/v1/cases")
    assert cases.status_code == 200, cases.content
    assert [c["id"] for c in cases.json()["results"]] == [world.tanaka_case.id]
