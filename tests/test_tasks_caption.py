"""The captioning task: the shapes renderer and grammar, the unseen-combination split, decoding (beam width 1
is greedy), both conditioning styles learning a tiny dataset, the model directory, the CLI and bad input."""
import numpy as np
import pytest

from rnnlab import cli, decoding
from rnnlab.tasks import caption
from rnnlab.tasks.caption import shapes
from rnnlab.tasks.caption.data import END_ID, START_ID, decoder_length

TINY = dict(image_size=16, images=48, test_images=8, max_objects=1, units=32, embed_dim=8, vector_dim=32,
            encoder="dense", encoder_units=64, batch_size=16, epochs=60, lr=1e-2, seed=0)


@pytest.fixture(scope="module")
def trained():
    """One tiny captioner per conditioning style, trained once for the module."""
    out = {}
    for cond in ("repeat", "init_state"):
        out[cond] = caption.train(conditioning=cond, verbose=0, **TINY)
    return out


@pytest.fixture
def pairs_files(tmp_path):
    rng = np.random.default_rng(0)
    words = ["a red ball", "a blue cube", "two green cones", "one red cube"]
    x = rng.standard_normal((24, 6)).astype("float32")
    caps = [words[i % 4] for i in range(24)]
    x += np.eye(4, 6)[np.arange(24) % 4] * 3                       # the caption is readable from the vector
    np.save(tmp_path / "f.npy", x)
    (tmp_path / "c.txt").write_text("\n".join(caps) + "\n", encoding="utf-8")
    return tmp_path / "f.npy", tmp_path / "c.txt", x, caps


# ---- the renderer and the grammar ---------------------------------------------------------------------

def test_each_objects_pixels_have_its_colour_and_the_rest_is_black():
    scene = [dict(shape="triangle", colour="yellow", size="big", row=0, col=0, cy=8.0, cx=8.0),
             dict(shape="circle", colour="blue", size="small", row=0, col=1, cy=8.0, cx=24.0)]
    image = shapes.render(scene, 32)
    painted = np.zeros((32, 32), dtype=bool)
    for obj in scene:
        mask = shapes.shape_mask(obj["shape"], obj["cy"], obj["cx"], shapes.half_extent(obj["size"], 32), 32)
        assert mask.sum() > 8
        np.testing.assert_array_equal(image[mask], np.broadcast_to(shapes.COLOURS[obj["colour"]], (mask.sum(), 3)))
        painted |= mask
    assert not image[~painted].any()
    tri = shapes.shape_mask("triangle", 8.0, 8.0, 6, 32)
    assert tri[13].sum() > tri[3].sum() > 0                         # wider at the base than near the apex
    assert shapes.shape_mask("circle", 8.0, 8.0, 3, 16).sum() == 32


def test_caption_matches_the_scene():
    a = dict(shape="square", colour="green", size="small", row=1, col=0, cy=24.0, cx=8.0)
    b = dict(shape="circle", colour="red", size="big", row=0, col=0, cy=8.0, cx=8.0)
    assert shapes.describe([a]) == "a small green square"
    assert shapes.describe([a, b]) == "a big red circle above a small green square"    # circle is named first
    assert shapes.describe([b, a]) == shapes.describe([a, b])
    c = dict(b, row=1, col=1, cy=24.0, cx=24.0)
    assert shapes.describe([a, c]) == "a big red circle right of a small green square"
    v = shapes.attributes([a, c])                                    # circle red big | square green small | right of
    assert v.shape == (22,) and np.flatnonzero(v).tolist() == [0, 3, 8, 10, 13, 16, 19]
    images, captions, scenes = shapes.make_split("train", 200, size=24, seed=3)
    assert images.shape == (200, 24, 24, 3) and images.dtype == np.float32
    words = {w for c in captions for w in c.split()}
    assert {"left", "right", "above", "below", "small", "big"} <= words
    for image, text, scene in zip(images, captions, scenes):
        assert text == shapes.describe(scene)
        np.testing.assert_array_equal(image, shapes.render(scene, 24))
        for obj in scene:                                            # every named colour is on the canvas
            assert f"{obj['size']} {obj['colour']} {obj['shape']}" in text
            assert np.all(image == shapes.COLOURS[obj["colour"]], axis=-1).any()
    again = shapes.make_split("train", 200, size=24, seed=3)
    np.testing.assert_array_equal(again[0], images)
    assert shapes.make_split("train", 20, size=24, seed=4)[1] != captions[:20]


def test_the_unseen_split_holds_exactly_the_held_out_combinations():
    held = set(shapes.HELD_OUT)
    for split in ("train", "test"):
        _, _, scenes = shapes.make_split(split, 400, size=16, seed=1)
        assert not {(o["colour"], o["shape"]) for s in scenes for o in s} & held
    _, captions, scenes = shapes.make_split("unseen", 200, size=16, seed=1)
    assert all({(o["colour"], o["shape"]) for o in s} & held for s in scenes)
    assert {(o["colour"], o["shape"]) for s in scenes for o in s} >= held
    _, _, train = shapes.make_split("train", 400, size=16, seed=1)       # each colour and shape still seen
    seen = {(o["colour"], o["shape"]) for s in train for o in s}
    assert {c for c, _ in seen} == set(shapes.COLOURS) and {s for _, s in seen} == set(shapes.SHAPES)


def test_teacher_forcing_layout():
    vocab = caption.build_vocabulary(["a red circle", "A blue square."])
    dec_in, target = caption.encode_captions(["a red circle"], vocab, length=5)
    ids = vocab.encode(["a", "red", "circle"])
    assert dec_in.tolist() == [[START_ID] + ids + [0]] and target.tolist() == [ids + [END_ID, 0]]
    assert caption.tokenize("A blue square.") == ["a", "blue", "square", "."]
    assert decoder_length(["a red circle", "A blue square."]) == 5


# ---- decoding and learning ------------------------------------------------------------------------------

def test_beam_width_one_equals_greedy(trained):
    for cap, _ in trained.values():
        images, _, _ = shapes.make_split("test", 6, size=16, seed=5, max_objects=1)
        v = cap.encode(images)
        start = np.full(6, START_ID)
        g = decoding.greedy(cap.step, start, cap.initial_states(v), max_length=cap.length, end_token=END_ID)
        b = decoding.beam_search(cap.step, start, cap.initial_states(v), max_length=cap.length, beam_width=1,
                                 end_token=END_ID)
        np.testing.assert_array_equal(b.tokens, g.tokens)
        np.testing.assert_array_equal(b.lengths, g.lengths)
        assert cap.caption(images, beam=1) == cap.caption(images, beam=1)


def test_step_function_equals_the_training_model(trained):
    """Decoding one word at a time gives the probabilities of the whole-sequence (teacher-forced) model."""
    for cap, _ in trained.values():
        images, captions, _ = shapes.make_split("test", 4, size=16, seed=6, max_objects=1)
        dec_in, _ = caption.encode_captions(captions, cap.vocab, cap.length)
        whole = cap.model.predict([cap.prepare(images), dec_in], verbose=0)
        states, steps = cap.initial_states(cap.encode(images)), []
        for t in range(cap.length):
            logp, states = cap.step(dec_in[:, t], states)
            steps.append(np.exp(logp))
        np.testing.assert_allclose(np.stack(steps, axis=1), whole, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("cond", ["repeat", "init_state"])
def test_both_conditioning_styles_learn_a_tiny_dataset(trained, cond):
    cap, report = trained[cond]
    train = caption.data.builtin("train", TINY["images"], cap.config)
    result = cap.evaluate(train.inputs, train.captions, beam=3)
    assert result["exact"] >= 0.9 and result["bleu"] > 90, (cond, result, report["loss"][-3:])
    assert report["loss"][-1] < report["loss"][0] / 5
    assert set(report) >= {"test", "unseen"} and 0 <= report["unseen"]["exact"] <= 1


def test_model_directory_round_trip_gives_identical_captions(trained, tmp_path):
    cap, _ = trained["init_state"]
    images, _, _ = shapes.make_split("test", 10, size=16, seed=7, max_objects=1)
    cap.save(tmp_path / "m")
    again = caption.load(tmp_path / "m")
    assert again.config == cap.config and again.vocab == cap.vocab and again.length == cap.length
    for beam in (1, 3):
        assert again.caption(images, beam=beam) == cap.caption(images, beam=beam)
    assert again.caption(images[0]) == cap.caption(images[:1])


# ---- user pairs, the command line and bad input -------------------------------------------------------------

def test_user_pairs_train_save_and_caption_from_the_command_line(pairs_files, tmp_path, capsys):
    f, c, x, caps = pairs_files
    out = tmp_path / "vec"
    argv = ["train", "caption", "--features", str(f), "--captions", str(c), "--out", str(out), "--units", "24",
            "--embed-dim", "8", "--vector-dim", "16", "--epochs", "40", "--batch-size", "8", "--lr", "0.01",
            "--conditioning", "repeat", "--quiet"]
    assert cli.main(argv) == 0
    assert "test: exact" in capsys.readouterr().out
    np.save(tmp_path / "one.npy", x[1])
    assert cli.main(["predict", str(out), "--vector", str(tmp_path / "one.npy")]) == 0
    assert capsys.readouterr().out.strip() == caps[1]
    assert cli.main(["predict", str(out), "--vector", str(f)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 24 and sum(line.split("\t")[1] == want for line, want in zip(lines, caps)) >= 22
    assert cli.main(["predict", str(out), "--vector", str(f), "--beam", "2"]) == 0
    beam = [line.split("\t")[1] for line in capsys.readouterr().out.strip().splitlines()]
    assert beam == caption.load(out).caption(x, beam=2)
    assert cli.main(["evaluate", str(out), "--features", str(f), "--captions", str(c)]) == 0
    assert "pairs: exact" in capsys.readouterr().out


def test_image_file_through_the_command_line(trained, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from rnnlab.tasks.caption.pictures import read_png, save_png, save_sheet
    cap, _ = trained["repeat"]
    cap.save(tmp_path / "m")
    images, _, _ = shapes.make_split("test", 2, size=16, seed=8, max_objects=1)
    save_png(tmp_path / "a.png", images[0])
    np.testing.assert_allclose(read_png(tmp_path / "a.png"), images[0], atol=1 / 255)
    assert cli.main(["predict", str(tmp_path / "m"), "--image", str(tmp_path / "a.png"), "--beam", "2"]) == 0
    assert capsys.readouterr().out.strip() == cap.caption(images[0], beam=2)[0]
    save_sheet(tmp_path / "sheet.png", images, ["x", "y"])
    assert (tmp_path / "sheet.png").stat().st_size > 1000
    assert cli.main(["evaluate", str(tmp_path / "m"), "--split", "unseen", "--images", "4"]) == 0
    assert "unseen: exact" in capsys.readouterr().out
    big = np.zeros((20, 20, 3))
    save_png(tmp_path / "big.png", big)
    assert cli.main(["predict", str(tmp_path / "m"), "--image", str(tmp_path / "big.png")]) == 1
    err = capsys.readouterr().err
    assert "big.png" in err and "16x16" in err and "(20, 20, 3)" in err
    assert cli.main(["predict", str(tmp_path / "m"), "--image", str(tmp_path / "nope.png")]) == 1
    err = capsys.readouterr().err
    assert "nope.png" in err and "does not exist" in err


def test_bad_input_gets_clear_errors(pairs_files, tmp_path, trained):
    f, c, x, caps = pairs_files
    (tmp_path / "short.txt").write_text("\n".join(caps[:22]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"short\.txt' has 22 lines .* 24 vectors; line 23 .* is missing"):
        caption.load_pairs(f, tmp_path / "short.txt")
    (tmp_path / "long.txt").write_text("\n".join(caps + ["an extra line"]), encoding="utf-8")
    with pytest.raises(ValueError, match=r"long\.txt' has 25 lines .* line 25 \('an extra line'\) has no vector"):
        caption.load_pairs(f, tmp_path / "long.txt")
    (tmp_path / "gap.txt").write_text("\n".join(caps[:3] + [" "] + caps[4:]), encoding="utf-8")
    with pytest.raises(ValueError, match=r"Line 4 of the captions file .*gap\.txt' is empty"):
        caption.load_pairs(f, tmp_path / "gap.txt")
    with pytest.raises(FileNotFoundError, match=r"features file .*missing\.npy' does not exist"):
        caption.load_pairs(tmp_path / "missing.npy", c)
    with pytest.raises(FileNotFoundError, match=r"captions file .*missing\.txt' does not exist"):
        caption.load_pairs(f, tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="give both files"):
        caption.train(features=f, verbose=0)
    vec, _ = caption.train(features=f, captions=c, epochs=1, units=8, vector_dim=8, verbose=0)
    with pytest.raises(ValueError, match=r"feature vectors of size 6, got an array of shape \(2, 5\) \(size 5\)"):
        vec.caption(np.zeros((2, 5)))
    img, _ = trained["repeat"]
    with pytest.raises(ValueError, match=r"reads 16x16 RGB images.* got shape \(24, 24, 3\)"):
        img.caption(np.zeros((24, 24, 3)))
    with pytest.raises(ValueError, match=r"values must lie in \[0, 1\], got values from 255 to 255; divide"):
        img.caption(np.full((16, 16, 3), 255, dtype=np.uint8))
    with pytest.raises(ValueError, match="beam must be a positive integer"):
        img.caption(np.zeros((16, 16, 3)), beam=0)
    with pytest.raises(ValueError, match="expected one of"):
        caption.CaptionConfig(conditioning="prefix")
    np.save(tmp_path / "v7.npy", np.zeros(7))
    vec.save(tmp_path / "vec")
    assert cli.main(["predict", str(tmp_path / "vec"), "--vector", str(tmp_path / "v7.npy")]) == 1
    assert cli.main(["predict", str(tmp_path / "vec"), "--vector", str(tmp_path / "absent.npy")]) == 1
    with pytest.raises(FileNotFoundError, match="not a model directory"):
        caption.load(tmp_path / "nowhere")
