"""Every example runs and does what it promises."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))


def test_course_mlp_loss_falls_tenfold_and_saves_its_graph(tmp_path):
    import course_mlp

    result = course_mlp.main(out_dir=tmp_path)
    curve = result["curve"]
    assert curve[-1] < curve[0] / 10
    assert result["image"].exists() and b"mlp" in result["image"].read_bytes()
    assert result["report"].ok
    assert all(np.sign(p) == y for p, y in zip(result["predictions"], course_mlp.Y))


def test_xnor_gets_all_four_cases_right():
    import xnor

    result = xnor.main()
    assert result["solved"]
    np.testing.assert_array_equal(result["probabilities"] > 0.5, xnor.Y > 0.5)


def test_small_cnn_learns_and_its_conv_passes_the_check():
    import small_cnn

    result = small_cnn.main(epochs=4)
    assert result["losses"][-1] < result["losses"][0] / 2
    assert result["accuracy"] > 0.75
    assert result["report"].ok


def test_log_softmax_naive_breaks_and_stable_does_not():
    import log_softmax

    result = log_softmax.main()
    assert np.isinf(result["naive"][0, 1])
    assert np.all(np.isfinite(result["stable"]))
    assert result["report"].ok


def test_quickstart_runs(tmp_path, monkeypatch, capsys):
    import runpy

    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "examples" / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "PASS" in out and (tmp_path / "out" / "neuron.svg").exists()


def test_broken_layer_example_names_each_bug():
    import broken_layer

    reports = broken_layer.main()
    assert reports[None].ok
    assert "once too often" in reports["batch"].verdict
    assert "transposed" in reports["transpose"].verdict
    assert "sign is flipped" in reports["sign"].verdict


def test_render_gallery_writes_every_kind_of_picture(tmp_path):
    import render_gallery

    written = render_gallery.main(tmp_path)
    assert [p.suffix for p in written] == [".svg"] * 5 + [".html"]
    assert all(p.stat().st_size > 500 for p in written)
    assert "check: PASS" in (tmp_path / "checked.svg").read_text()
