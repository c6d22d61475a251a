from mirror_assets.fetch.inventory import Problem, classify_source_files, is_safe_name


def test_pairs_refusals_and_unknown_files():
    inventory = classify_source_files(
        [
            "cmip6_oi10.parquet",
            "cmip6_oi10.json",
            "OM4_025.JRA_RYF.parquet",
            "OM4_025.JRA_RYF.json",
            "lonely.parquet",
            "orphan.json",
            "../evil.parquet",
            "../evil.json",
            "README.txt",
            "Case.parquet",
            "Case.json",
            "case.parquet",
            "case.json",
        ]
    )
    assert inventory.datastores == ["OM4_025.JRA_RYF", "cmip6_oi10"]
    assert inventory.ignored == ["README.txt"]
    assert (
        Problem("lonely", "source/lonely.parquet", "incomplete pair: source/lonely.json missing")
        in inventory.problems
    )
    assert (
        Problem("orphan", "source/orphan.json", "incomplete pair: source/orphan.parquet missing")
        in inventory.problems
    )
    assert {p.name for p in inventory.problems} == {"lonely", "orphan", "../evil", "Case", "case"}
    assert all(p.cause.startswith("refused") for p in inventory.problems if p.name == "../evil")
    assert inventory.files == [
        "OM4_025.JRA_RYF.parquet",
        "OM4_025.JRA_RYF.json",
        "cmip6_oi10.parquet",
        "cmip6_oi10.json",
    ]


def test_safe_names():
    assert is_safe_name("panant-01-zstar-ACCESSyr2")
    assert is_safe_name("WOA-13")
    for bad in ["..", "a..b", ".hidden", "a/b", "a\\b", "", "sp ace"]:
        assert not is_safe_name(bad), bad
