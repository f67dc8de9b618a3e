"""Smoke test of the figure writer behind ``currentforces figures --out DIR``."""

import numpy as np
import pytest

from currentforces.models import jellium, paper_figures

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_make_paper_figures_writes_pngs_and_data(tmp_path):
    out = tmp_path / "figs"
    paths = paper_figures.make_paper_figures(out, points=24)
    names = {p.name for p in paths}
    for stem in ("fig5_curl_S10", "fig6_curl_y_profile", "lorentz_Az_S10"):
        assert f"{stem}.png" in names
        assert any(n.startswith(stem + ".") and not n.endswith(".png") for n in names)
    for p in paths:
        assert p.parent == out and p.stat().st_size > 0
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == PNG_SIGNATURE

    # Fig. 6 data: distance from the surface and one column per side (10, 20 lambda_F),
    # equal to curl_nonconservative along y = S/2 (the figure shows what the library computes)
    data = np.loadtxt(out / "fig6_curl_y_profile.csv", delimiter=",")
    d = data[:, 0]
    assert d[0] == 0.0 and np.isclose(d[-1], 5.0)
    for col, side in ((1, 10.0), (2, 20.0)):
        expected = jellium.curl_nonconservative(side, side - d, side / 2)[..., 1]
        assert np.allclose(data[:, col], expected, rtol=1e-12, atol=1e-15)


def test_fig5_data_file_matches_library(tmp_path):
    xr = pytest.importorskip("xarray")
    paper_figures.make_paper_figures(tmp_path, points=16)
    ds = xr.open_dataset(tmp_path / "fig5_curl_S10.nc")
    try:
        assert ds["curl_x"].shape == (16, 16)
        assert ds["curl_x"].attrs["units"] == "k_F F_w^bulk"
        x, y = ds["x"].values, ds["y"].values
        c = jellium.curl_nonconservative(10.0, x[:, None], y[None, :])
        assert np.allclose(ds["curl_x"].values, c[..., 0], rtol=1e-12, atol=1e-15)
        assert np.allclose(ds["curl_y"].values, c[..., 1], rtol=1e-12, atol=1e-15)
    finally:
        ds.close()
