"""``sansam sync`` as a coordinator uses it: the village PC writes a bundle to the USB
stick, the central book takes it, and a second import says there is nothing new."""

from __future__ import annotations

import json

import pytest

from tests.test_sync import ACHM, village  # noqa: F401  (the village book fixture)
from tui.cli import main

pytestmark = pytest.mark.usefixtures("cli_as_tester")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_bundle_goes_from_the_village_to_the_central_book(village, book_url, tmp_path, capsys):  # noqa: F811
    stick = tmp_path / "usb" / "achm.sansam"
    stick.parent.mkdir()
    village_db, central_db = ("--db", village.url), ("--db", book_url)

    code, out, _ = run(capsys, "sync", "key", "--json", *central_db)
    assert code == 0
    central_key = json.loads(out)["public_key"]

    code, out, _ = run(capsys, "sync", "export", "--group", ACHM, str(stick), *village_db)
    assert code == 0 and f"entries of {ACHM} (#1-#" in out and stick.exists()
    code, out, _ = run(capsys, "sync", "import", str(stick), *central_db)
    assert code == 0 and "(a group new to this book)" in out
    assert "records (meetings, loans, rice…)" in out
    assert f"sansam user grant NAME --role coordinator --group {ACHM}" in out
    code, out, _ = run(capsys, "sync", "import", str(stick), *central_db)
    assert code == 0 and f"Nothing new for {ACHM}" in out

    code, out, err = run(capsys, "sync", "import", str(tmp_path / "missing.sansam"), *central_db)
    assert code != 0 and "There is no file" in err

    code, out, _ = run(
        capsys, "sync", "move-home", "--group", ACHM, "--to", central_key, *village_db
    )
    assert code == 0 and "home moved" in out
