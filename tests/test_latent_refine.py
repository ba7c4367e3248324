"""The decoder's full-resolution refinement (``train --refine R``) and bilinear stages
(``--upsample bilinear``), format version 4: torch and the numpy decoder agree, a run or file
without the refinement grows one that decodes exactly as before, the block then trains, and
files that do not fit are refused with their reason."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from latent_faces.numpy_decoder import FORMAT_VERSION, NumpyDecoder  # noqa: E402
from latent_faces.training.adversarial import last_layer  # noqa: E402
from latent_faces.training.checkpoints import read_checkpoint  # noqa: E402
from latent_faces.training.export import export_decoder  # noqa: E402
from latent_faces.training.models import ConvAutoencoder, ModelConfig  # noqa: E402
from latent_faces.training.warmstart import grow_refine  # noqa: E402

torch.set_num_threads(1)

TINY = ModelConfig(z_dim=4, decoder="resup", dec_filters=(8, 6, 4), res_blocks=(0, 1, 1),
                   fc_channels=8, dropout=0.0, final="bilinear")


def _decode_torch(model, z):
    with torch.no_grad():
        return model.decoder(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)


def _z(n=5, seed=0):
    return np.random.default_rng(seed).normal(0, 2, (n, 4)).astype(np.float32)


@pytest.mark.parametrize(("final", "upsample"), [("bilinear", "nearest"),
                                                 ("upconv", "bilinear"),
                                                 ("bilinear", "bilinear")])
def test_refined_decoder_exports_and_decodes_like_torch(tmp_path, final, upsample):
    cfg = ModelConfig(**{**TINY.to_dict(), "final": final, "upsample": upsample, "refine": 5})
    torch.manual_seed(1)
    m = ConvAutoencoder(cfg).eval()
    with torch.no_grad():  # a trained block is not zero: make its correction visible
        m.decoder.refine2.weight.normal_(0, 0.3)
        m.decoder.refine2.bias.normal_(0, 0.3)
    export_decoder(m.decoder, tmp_path / "r.npz")
    dec = NumpyDecoder.load(tmp_path / "r.npz")
    assert dec.header["format_version"] == FORMAT_VERSION == 4
    assert (dec.refine, dec.upsample, dec.final) == (5, upsample, final)
    assert dec.a["out_w"].shape == (4, 9 * 8) and dec.a["refine_w1"].shape == (8, 9 * 5)
    z = _z()
    ref = _decode_torch(m, z)
    assert np.abs(dec.decode(z) - ref).max() <= 1e-4
    # The correction is there: without it the images differ.
    with torch.no_grad():
        m.decoder.refine2.weight.zero_()
        m.decoder.refine2.bias.zero_()
    assert np.abs(_decode_torch(m, z) - ref).max() > 1e-2


def test_the_block_starts_as_the_identity_and_is_the_last_layer():
    cfg = ModelConfig(**{**TINY.to_dict(), "refine": 3})
    torch.manual_seed(2)
    plain, refined = ConvAutoencoder(TINY).eval(), ConvAutoencoder(cfg).eval()
    refined.load_state_dict(grow_refine(plain.state_dict(), refined.state_dict()))
    z = _z()
    assert np.array_equal(_decode_torch(plain, z), _decode_torch(refined, z))
    # VQGAN's adaptive weight compares gradients at the decoder's last layer: now the block.
    assert last_layer(refined.decoder) is refined.decoder.refine2.weight
    with pytest.raises(ValueError, match="already has a refinement"):
        grow_refine(refined.state_dict(), refined.state_dict())


def _args(path):
    return ["--init-decoder", str(path), "--dropout", "0", "--n-train", "48", "--n-test", "8",
            "--batch-size", "16", "--threads", "1", "--quiet", "--kl-weight", "0.01",
            "--lr", "1e-3"]


def _plain_file(tmp_path):
    torch.manual_seed(0)
    m = ConvAutoencoder(ModelConfig(**{**TINY.to_dict(), "dec_norm": "none"})).eval()
    path = tmp_path / "plain.npz"
    export_decoder(m.decoder, path)
    return path


def test_a_run_and_a_file_without_the_block_grow_one_that_decodes_as_before(tmp_path):
    from latent_faces.cli import main

    path = _plain_file(tmp_path)
    base, grown, from_file = tmp_path / "base", tmp_path / "grown", tmp_path / "from_file"
    assert main(["train", "--out", str(base), "--epochs", "1", *_args(path)]) == 0
    frozen = ["--freeze-decoder-steps", "100"]  # the decoder does not move: compare it
    assert main(["train", "--out", str(grown), "--epochs", "1", "--refine", "5", "--init",
                 str(base / "checkpoint.pt"), *_args(path), *frozen]) == 0
    assert main(["train", "--out", str(from_file), "--epochs", "1", "--refine", "5",
                 *_args(path), *frozen]) == 0
    z = _z(8, 1)
    want = NumpyDecoder.load(base / "decoder.npz").decode(z)
    start = NumpyDecoder.load(path).decode(z)
    for run, expect in ((grown, want), (from_file, start)):
        dec = NumpyDecoder.load(run / "decoder.npz")
        assert dec.refine == 5 and json.loads((run / "config.json").read_text())[
            "model"]["refine"] == 5
        assert np.abs(dec.decode(z) - expect).max() <= 1e-6
    # Then it trains: one free epoch moves the zero-started conv, and a refined file loads
    # into a run of the same width.
    free = tmp_path / "free"
    assert main(["train", "--out", str(free), "--epochs", "1", "--refine", "5",
                 *_args(path)]) == 0
    w2 = read_checkpoint(free / "checkpoint.pt")["model"]["decoder.refine2.weight"]
    assert w2.abs().max() > 0
    assert main(["train", "--out", str(tmp_path / "again"), "--epochs", "1",
                 *_args(free / "decoder.npz")]) == 0
    assert NumpyDecoder.load(tmp_path / "again" / "decoder.npz").refine == 5


@pytest.mark.parametrize(("extra", "msg"), [
    (["--refine", "4"], "refine needs decoder 'resup' with final 'upconv' or 'bilinear'"),
    (["--decoder", "resup", "--final", "shuffle", "--refine", "4"], "refine needs"),
    (["--decoder", "resup", "--refine", "65"], "--refine"),
    (["--decoder", "resup", "--upsample", "cubic"], "--upsample"),
])
def test_cli_refusals(tmp_path, capsys, extra, msg):
    from latent_faces.cli import main

    assert main(["train", "--out", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_refined_file_does_not_load_into_another_width(tmp_path):
    from latent_faces.cli import main

    cfg = ModelConfig(**{**TINY.to_dict(), "dec_norm": "none", "refine": 5})
    export_decoder(ConvAutoencoder(cfg).decoder, tmp_path / "r5.npz")
    assert main(["train", "--out", str(tmp_path / "o"), "--refine", "3",
                 *_args(tmp_path / "r5.npz")]) == 2


def _rewrite(path, out, **changes):
    with np.load(path) as f:
        arrs = {k: f[k] for k in f.files}
    header = json.loads(str(arrs.pop("header")))
    header.update(changes)
    np.savez(out, header=np.array(json.dumps(header)), **arrs)
    return out


@pytest.mark.parametrize(("changes", "msg"), [
    ({"format_version": 3}, "need format version 4"),
    ({"refine": 4}, "missing array|do not chain"),
    ({"refine": -1}, "refine -1"),
    ({"refine": "5"}, "refine '5'"),
    ({"upsample": "cubic"}, "unknown upsampling 'cubic'"),
])
def test_loader_refuses_inconsistent_headers(tmp_path, changes, msg):
    cfg = ModelConfig(**{**TINY.to_dict(), "refine": 5})
    export_decoder(ConvAutoencoder(cfg).decoder, tmp_path / "r.npz")
    bad = _rewrite(tmp_path / "r.npz", tmp_path / "bad.npz", **changes)
    with pytest.raises(ValueError, match=msg):
        NumpyDecoder.load(bad)


def test_version_3_files_still_decode_as_they_did(tmp_path):
    # Files written before version 4 (e.g. issue 10's shipped decoder) have neither key: they
    # mean nearest stages and no refinement, and decode as the same network written today.
    torch.manual_seed(5)
    m = ConvAutoencoder(TINY).eval()
    export_decoder(m.decoder, tmp_path / "v4.npz")
    with np.load(tmp_path / "v4.npz") as f:
        arrs = {k: f[k] for k in f.files}
    header = json.loads(str(arrs.pop("header")))
    assert (header.pop("upsample"), header.pop("refine")) == ("nearest", 0)
    header["format_version"] = 3
    np.savez(tmp_path / "v3.npz", header=np.array(json.dumps(header)), **arrs)
    old, new = NumpyDecoder.load(tmp_path / "v3.npz"), NumpyDecoder.load(tmp_path / "v4.npz")
    assert (old.upsample, old.refine, old.header["format_version"]) == ("nearest", 0, 3)
    z = _z()
    assert np.array_equal(old.decode(z), new.decode(z))
    assert np.abs(old.decode(z) - _decode_torch(m, z)).max() <= 1e-4
