import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from alkit.errors import InvalidInputError
from alkit.probe import LinearProbe


def blobs(n_per=60, d=64, C=10, sep=6.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((C, d)) * sep
    y = np.repeat(np.arange(C), n_per)
    x = centres[y] + rng.standard_normal((len(y), d))
    return x.astype(np.float32), y


def test_separable_blobs_reach_99_percent():
    x, y = blobs(seed=0)
    rng = np.random.default_rng(1)
    centres = np.random.default_rng(0).standard_normal((10, 64)) * 6.0
    yt = np.repeat(np.arange(10), 100)
    xt = (centres[yt] + rng.standard_normal((len(yt), 64))).astype(np.float32)
    probe = LinearProbe(10, seed=0, device="cpu").fit(x, y)
    assert (probe.predict(xt) == yt).mean() >= 0.99


def test_early_stopping_stops_and_keeps_best_epoch():
    x, y = blobs()
    probe = LinearProbe(10, seed=0, device="cpu", patience=5).fit(x, y)
    assert probe.n_epochs_ < 400
    curve = np.asarray(probe.loss_curve_)
    assert probe.best_epoch_ == int(np.argmin(curve)) + 1
    # the kept state is the best epoch's, not the last one's: refit with max_epochs = best epoch
    again = LinearProbe(10, seed=0, device="cpu", patience=5, max_epochs=probe.best_epoch_).fit(
        x, y
    )
    for a, b in zip(probe.state_dict().values(), again.state_dict().values()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_same_seed_same_weights_and_different_seed_differs():
    x, y = blobs()
    a = LinearProbe(10, seed=3, device="cpu", max_epochs=20).fit(x, y).state_dict()
    b = LinearProbe(10, seed=3, device="cpu", max_epochs=20).fit(x, y).state_dict()
    c = LinearProbe(10, seed=4, device="cpu", max_epochs=20).fit(x, y).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["weight"], c["weight"])


def test_sample_weight_zero_ignores_point():
    x, y = blobs(n_per=20)
    # a poisoned copy of point 0 with a wrong label and weight 0 must not change the fit
    x2 = np.vstack([x, x[:1]])
    y2 = np.concatenate([y, [(y[0] + 1) % 10]])
    w = np.concatenate([np.ones(len(x)), [0.0]])
    base = LinearProbe(10, seed=0, device="cpu", max_epochs=30, dropout=0.0).fit(x, y)
    weighted = LinearProbe(10, seed=0, device="cpu", max_epochs=30, dropout=0.0).fit(
        x2, y2, sample_weight=w
    )
    # BN statistics include the extra row, so compare predictions, not raw weights
    agree = (base.predict(x) == weighted.predict(x)).mean()
    assert agree >= 0.99
    # and a large weight on the poisoned point does change the fit
    w_big = np.concatenate([np.ones(len(x)), [50.0]])
    heavy = LinearProbe(10, seed=0, device="cpu", max_epochs=30, dropout=0.0).fit(
        x2, y2, sample_weight=w_big
    )
    assert heavy.predict(x2[-1:])[0] == y2[-1]


def test_one_step_matches_torch_modules():
    """The hand-written step equals nn.Dropout + BatchNorm1d + Linear with autograd and AdamW."""
    x, y = blobs(n_per=8, d=16, C=4)
    n, d = x.shape
    probe = LinearProbe(4, seed=0, device="cpu", max_epochs=1, patience=1)
    fixed = {}

    def fake_mask(shape):
        g = torch.Generator().manual_seed(123)
        fixed["m"] = (torch.rand(shape, generator=g) < 0.25).float()
        return fixed["m"].clone()

    probe._keep_mask = fake_mask
    g = torch.Generator().manual_seed(0)
    bound = 1 / math.sqrt(d)
    w0 = (torch.rand((4, d), generator=g) * 2 - 1) * bound
    b0 = (torch.rand((4,), generator=g) * 2 - 1) * bound
    probe.fit(x, y)

    lin = torch.nn.Linear(d, 4)
    bn = torch.nn.BatchNorm1d(d, affine=False)
    with torch.no_grad():
        lin.weight.copy_(w0)
        lin.bias.copy_(b0)
    opt = torch.optim.AdamW(lin.parameters(), lr=1e-2, weight_decay=1e-2)
    xt = torch.from_numpy(x) * fixed["m"] / 0.25  # the same dropout mask, inverted scaling
    loss = torch.nn.functional.cross_entropy(lin(bn(xt)), torch.from_numpy(y))
    loss.backward()
    opt.step()
    np.testing.assert_allclose(probe.weight_.numpy(), lin.weight.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(probe.bias_.numpy(), lin.bias.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(probe.running_mean_.numpy(), bn.running_mean.numpy(), atol=1e-5)
    np.testing.assert_allclose(
        probe.running_var_.numpy(), bn.running_var.numpy(), rtol=1e-4, atol=1e-5
    )
    assert probe.loss_curve_[0] == pytest.approx(float(loss.detach()), rel=1e-5)
    # and inference equals the module in eval mode
    mod = probe.to_torch_module()
    with torch.no_grad():
        ref = torch.softmax(mod(torch.from_numpy(x)), 1).numpy()
    np.testing.assert_allclose(probe.predict_proba(x), ref, atol=1e-5)
    np.testing.assert_allclose(
        probe.embed(x), mod[1](torch.from_numpy(x)).detach().numpy(), atol=1e-4
    )


def test_fit_does_not_import_torch_dynamo():
    """A process's first fit does not pay torch.optim.AdamW's import of torch._dynamo."""
    code = (
        "import sys, numpy as np\n"
        "from alkit.probe import LinearProbe\n"
        "x = np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)\n"
        "LinearProbe(2, seed=0, device='cpu', max_epochs=3).fit(x, np.arange(40) % 2)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_keep_mask_rate_and_freshness():
    probe = LinearProbe(3, seed=0, device="cpu")
    a = probe._keep_mask((400, 500))
    b = probe._keep_mask((400, 500))
    assert set(np.unique(a.numpy())) <= {0.0, 1.0}
    assert abs(a.mean().item() - 0.25) < 0.005
    assert not torch.equal(a, b)
    other = LinearProbe(3, seed=0, device="cpu", dropout=0.3)._keep_mask((400, 500))
    assert abs(other.mean().item() - 0.7) < 0.005


def test_stochastic_passes_and_chunking():
    x, y = blobs(n_per=20)
    probe = LinearProbe(10, seed=0, device="cpu", max_epochs=30, chunk_size=37).fit(x, y)
    clean, passes = probe.mc_argmax(x, 5)
    assert passes.shape == (5, len(x)) and clean.shape == (len(x),)
    np.testing.assert_array_equal(clean, probe.predict(x))
    mean_p, mean_h = probe.mc_stats(x, 4)
    assert mean_p.shape == (len(x), 10) and mean_h.shape == (len(x),)
    np.testing.assert_allclose(mean_p.sum(1), 1.0, atol=1e-5)
    assert (mean_h >= -1e-6).all()
    # dropout passes differ from the clean pass somewhere
    assert (passes != clean).any()


@pytest.mark.parametrize("dropout", [0.75, 0.3])
def test_dropout_passes_equal_plain_masked_products(dropout):
    """mc_argmax / mc_stats (masks applied dropout.PASS_ROWS rows at a time, gathered with rows=) give
    exactly the argmax and probabilities of one plain masked product per chunk, same draws."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2600, 24)).astype(np.float32)
    y = np.arange(len(x)) % 5
    probe = LinearProbe(5, seed=0, device="cpu", max_epochs=5, chunk_size=1100, dropout=dropout)
    probe.fit(x, y)
    rows = rng.permutation(len(x))[:2300]
    w = probe._w_eff.T.contiguous()

    def reference(n_passes):
        clean, passes, probs = [], [], []
        for s in range(0, len(rows), probe.chunk_size):
            xb = torch.from_numpy(x[rows[s : s + probe.chunk_size]])
            clean.append(torch.addmm(probe._b_eff, xb, w).argmax(1))
            xs = xb * probe._inv_keep
            logits = [
                torch.addmm(probe._b_eff, probe._keep_mask(tuple(xb.shape)) * xs, w)
                for _ in range(n_passes)
            ]
            passes.append(torch.stack([lo.argmax(1) for lo in logits]))
            probs.append(torch.stack([torch.softmax(lo, 1) for lo in logits]).mean(0))
        return torch.cat(clean).numpy(), torch.cat(passes, 1).numpy(), torch.cat(probs).numpy()

    state = probe.generator.get_state()
    ref_clean, ref_passes, ref_p = reference(3)
    probe.generator.set_state(state)
    clean, passes = probe.mc_argmax(x, 3, rows=rows)
    np.testing.assert_array_equal(clean, ref_clean)
    np.testing.assert_array_equal(passes, ref_passes)
    # a read-only pool is gathered by numpy instead: the same rows, the same masks
    probe.generator.set_state(state)
    ro = x.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(probe.mc_argmax(ro, 3, rows=rows)[1], ref_passes)
    probe.generator.set_state(state)
    mean_p, _ = probe.mc_stats(x[rows], 3)
    np.testing.assert_allclose(mean_p, ref_p, rtol=1e-6, atol=1e-7)


def test_bad_inputs():
    probe = LinearProbe(3, device="cpu")
    x = np.zeros((4, 2), dtype=np.float32)
    with pytest.raises(InvalidInputError, match="not fitted"):
        probe.predict(x)
    with pytest.raises(InvalidInputError, match="NaN"):
        probe.fit(np.array([[np.nan, 1.0], [0.0, 1.0]]), [0, 1])
    with pytest.raises(InvalidInputError, match="only 3 classes"):
        probe.fit(x, [0, 1, 2, 3])
    with pytest.raises(InvalidInputError, match="4 rows"):
        probe.fit(x, [0, 1])
    with pytest.raises(InvalidInputError, match="sample_weight"):
        probe.fit(x, [0, 1, 2, 0], sample_weight=[1, -1, 1, 1])
    with pytest.raises(InvalidInputError, match="dropout"):
        LinearProbe(3, dropout=1.0)
    with pytest.raises(InvalidInputError, match="n_classes"):
        LinearProbe(1)
