"""Writing figures: the three formats, byte-identical reruns, fixed fonts, and failures that are
recorded (exit code 1) instead of crashing the run."""

from __future__ import annotations

import copy
import dataclasses

from ketastats.figures import draw_figures, render_figures, write_figures


def test_every_figure_is_written_in_three_formats_twice_with_identical_bytes(rct, tmp_path):
    first = render_figures(rct, tmp_path / "one")
    second = render_figures(rct, tmp_path / "two")
    assert [f.id for f in first] == ["relapse_km_figure", "relapse_cox_forest"]
    for a, b in zip(first, second):
        assert a.ok and set(a.files) == {"png", "svg", "pdf"}
        assert a.files["png"] == tmp_path / "one" / "figures" / f"{a.id}.png"
        for kind in ("png", "svg", "pdf"):
            assert a.files[kind].read_bytes() == b.files[kind].read_bytes(), f"{a.id}.{kind} differs between runs"
    km = first[0]
    png = km.files["png"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and b"Software" not in png and b"tIME" not in png
    import struct

    width = struct.unpack(">I", png[16:20])[0]
    assert abs(width - round(89 / 25.4 * 300)) <= 1                 # single column at 300 dpi
    assert b"CreationDate" not in km.files["pdf"].read_bytes()
    svg = km.files["svg"].read_text()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert "synthetic" in km.caption.lower()


def test_figures_use_the_bundled_dejavu_sans():
    from pathlib import Path

    import matplotlib
    from matplotlib import font_manager

    from ketastats.figures.style import figure_style

    with figure_style("single_column"):
        path = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    assert Path(path).name == "DejaVuSans.ttf"
    assert Path(path).is_relative_to(Path(matplotlib.get_data_path()))


def test_a_figure_of_a_failed_analysis_is_recorded_and_the_others_are_written(rct, tmp_path):
    result = copy.copy(rct)
    result.results = dict(rct.results)
    result.warnings = list(rct.warnings)
    result.results["relapse_km"] = dataclasses.replace(rct.results["relapse_km"], status="failed")
    rendered, warnings = draw_figures(result)
    write_figures(rendered, tmp_path / "figures")
    km, cox = rendered
    assert not km.ok and "relapse_km" in km.reason and km.files == {} and km.content == {}
    assert cox.ok and cox.files["pdf"].is_file()
    assert not (tmp_path / "figures" / "relapse_km_figure.png").exists()
    assert [w.code for w in warnings] == ["figure-failed"]
    result.figures = rendered
    assert result.exit_code == 1


def test_a_figure_that_cannot_be_drawn_fails_with_its_reason(rct, tmp_path):
    result = copy.copy(rct)
    result.warnings = list(rct.warnings)
    plan = rct.plan.model_copy(update={"figures": [rct.plan.figures[0].model_copy(update={"level_labels": {}}),
                                                   rct.plan.figures[1].model_copy(update={"terms": ["no_such_term"]})]})
    result.plan = plan
    result.figures = render_figures(result, tmp_path)
    km, cox = result.figures
    assert km.ok
    assert not cox.ok and "no fixed terms" in cox.reason
    assert not list((tmp_path / "figures").glob("relapse_cox_forest.*"))
    assert result.exit_code == 1


def test_run_writes_figures_and_lists_them_in_results_json(tmp_path):
    import json
    from pathlib import Path

    import ketastats

    root = Path(__file__).resolve().parents[2]
    result = ketastats.run_plan(root / "analysis_plans" / "ketamine_placebo_rct.yaml", out=tmp_path / "report")
    assert result.exit_code == 0
    document = json.loads((tmp_path / "report" / "results.json").read_text())
    assert [(f["id"], f["status"], sorted(f["files"].values())) for f in document["figures"]] == [
        ("relapse_km_figure", "ok", ["figures/relapse_km_figure.pdf", "figures/relapse_km_figure.png",
                                     "figures/relapse_km_figure.svg"]),
        ("relapse_cox_forest", "ok", ["figures/relapse_cox_forest.pdf", "figures/relapse_cox_forest.png",
                                      "figures/relapse_cox_forest.svg"])]
    assert all(path.is_file() and path.parent == tmp_path / "report" / "figures"
               for figure in result.figures for path in figure.files.values())
    assert sorted(p.name for p in (tmp_path / "report" / "figures").iterdir()) == sorted(
        f"{name}.{kind}" for name in ("relapse_km_figure", "relapse_cox_forest") for kind in ("png", "svg", "pdf"))


def test_a_users_matplotlib_settings_do_not_change_the_files(rct, tmp_path):
    import matplotlib

    plain = render_figures(rct, tmp_path / "plain")
    with matplotlib.rc_context({"lines.linewidth": 4, "font.size": 20, "axes.prop_cycle":
                                matplotlib.cycler(color=["red"]), "svg.hashsalt": None}):
        styled = render_figures(rct, tmp_path / "styled")
    for a, b in zip(plain, styled):
        for kind in ("png", "svg", "pdf"):
            assert a.files[kind].read_bytes() == b.files[kind].read_bytes()


def test_presets_set_the_journal_width(rct):
    from .conftest import draw

    widths = {preset: round(draw(rct, "relapse_km_figure", preset=preset).get_figwidth() * 25.4, 6)
              for preset in ("single_column", "one_and_half_column", "double_column")}
    assert widths == {"single_column": 89.0, "one_and_half_column": 140.0, "double_column": 183.0}
