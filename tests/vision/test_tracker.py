"""Tracker behaviour, frame by frame, on synthetic detections."""

from __future__ import annotations

import pytest

from assistant.vision.faces import Detection
from assistant.vision.tracker import Observation, Tracker, TrackerConfig

FPS = 30.0
WHOLE = ((0, 0, 1280, 720),)


def face(cx: float, cy: float, w: float = 80.0) -> Detection:
    eye = w * 0.22
    return Detection((cx - w / 2, cy - w / 2, w, w), 0.9, ((cx - eye, cy - w * 0.1), (cx + eye, cy - w * 0.1)))


def step(tracker: Tracker, i: int, *faces: Detection, searched=WHOLE):
    return tracker.update(Observation(i / FPS, tuple(faces), searched))


def ids_by_side(tracks) -> dict[str, int]:
    ordered = sorted(tracks, key=lambda t: t.box[0])
    return {"left": ordered[0].id, "right": ordered[-1].id}


def test_two_subjects_crossing_keep_their_ids():
    """A walks right, B walks left, both at 240 px/s; while they overlap only the front face is seen."""
    tracker = Tracker()
    a_id = b_id = None
    for i in range(90):
        ax, bx = 300 + 8 * i, 1000 - 8 * i
        a, b = face(ax, 360, 90), face(bx, 370, 70)
        overlapping = abs(ax - bx) < 90
        tracks = step(tracker, i, a) if overlapping else step(tracker, i, a, b)
        by_id = {t.id: t for t in tracks}
        if i == 10:
            a_id, b_id = ids_by_side(tracks)["left"], ids_by_side(tracks)["right"]
        if i > 10 and not overlapping:
            assert set(by_id) == {a_id, b_id}
            assert abs(by_id[a_id].box[0] + 45 - ax) < 15, i
            assert abs(by_id[b_id].box[0] + 35 - bx) < 15, i
    assert a_id != b_id


def test_a_subject_missing_for_a_few_frames_keeps_its_id_and_coasts():
    tracker = Tracker(TrackerConfig(hold_s=1.0))
    for i in range(10):
        tracks = step(tracker, i, face(400 + 5 * i, 300))
    (first,) = tracks
    for i in range(10, 20):  # a third of a second unseen, though searched
        (held,) = step(tracker, i)
        assert held.id == first.id and held.coasting
    assert held.box[0] == pytest.approx(400 + 5 * 19 - 40, abs=6)  # still walking on its prediction
    (back,) = step(tracker, 20, face(500, 300))
    assert back.id == first.id and not back.coasting


def test_a_subject_missing_longer_than_the_hold_time_is_dropped():
    tracker = Tracker(TrackerConfig(hold_s=0.5))
    for i in range(5):
        step(tracker, i, face(400, 300))
    assert step(tracker, 5 + 14)  # 0.47 s unseen: still held
    assert step(tracker, 5 + 16) == ()  # 0.53 s: gone
    (new,) = [t for t in (step(tracker, 22, face(400, 300)), step(tracker, 23, face(400, 300)))[-1]]
    assert new.id != 1


def test_a_one_frame_false_detection_never_becomes_a_subject():
    tracker = Tracker()
    for i in range(30):
        extra = (face(1000, 200, 50),) if i == 12 else ()
        tracks = step(tracker, i, face(300, 300), *extra)
        assert [t.id for t in tracks] in ([], [1])
    assert [t.id for t in tracks] == [1]


def test_misses_count_only_where_the_detector_looked():
    tracker = Tracker(TrackerConfig(hold_s=0.3))
    for i in range(5):
        step(tracker, i, face(300, 300))
    for i in range(5, 60):  # the detector looks elsewhere for almost two seconds
        (track,) = step(tracker, i, searched=((800, 0, 480, 720),))
        assert not track.coasting
    # ... and the subject is still there when it looks again
    (track,) = step(tracker, 60, face(302, 300), searched=((0, 0, 640, 720),))
    assert track.id == 1 and not track.coasting


def test_a_face_that_suddenly_doubles_is_not_the_same_subject():
    tracker = Tracker()
    for i in range(5):
        step(tracker, i, face(300, 300, 60))
    tracks = step(tracker, 5, face(300, 300, 150))
    assert [t.id for t in tracks] == [1] and tracks[0].coasting


def test_labels_follow_ids_and_rules_pick_subjects():
    tracker = Tracker(label_rules={"A": "right"})
    for i in range(5):
        tracks = step(tracker, i, face(300, 300), face(900, 500))
    sides = ids_by_side(tracks)
    assert {t.label: t.id for t in tracks} == {"A": sides["right"], "B": sides["left"]}
    for i in range(5, 60):  # A walks over to the left of B: the label stays with its ID
        tracks = step(tracker, i, face(300, 300), face(900 - 12 * (i - 4), 500))
    assert ids_by_side(tracks)["left"] == sides["right"]
    assert {t.label: t.id for t in tracks} == {"A": sides["right"], "B": sides["left"]}
    tracker.assign_label("A", sides["left"])  # the operator moves A to the other subject
    tracks = step(tracker, 60, face(300, 300), face(900 - 12 * 56, 500))
    assert {t.label: t.id for t in tracks} == {"A": sides["left"], "B": sides["right"]}
    with pytest.raises(ValueError, match="no subject with ID 99"):
        tracker.assign_label("C", 99)


def test_bad_rules_and_out_of_order_time_are_rejected():
    with pytest.raises(ValueError, match="unknown subject label 'E'"):
        Tracker(label_rules={"E": "left"})
    with pytest.raises(ValueError, match="unknown rule 'top'"):
        Tracker(label_rules={"A": "top"})
    tracker = Tracker()
    step(tracker, 5, face(10, 10))
    with pytest.raises(ValueError, match="time order"):
        step(tracker, 4, face(10, 10))


# ---------------------------------------------------------------- frame edges and cuts

FRAME = (1280, 720)
OPEN = ((-100_000, -100_000, 200_000, 200_000),)
"""One search of the whole frame, passed open-ended at its edges as the subject finder does."""


def share_inside(box, frame=FRAME) -> float:
    x, y, w, h = box
    iw = max(0, min(x + w, frame[0]) - max(x, 0))
    ih = max(0, min(y + h, frame[1]) - max(y, 0))
    return iw * ih / (w * h)


@pytest.mark.parametrize("direction", (1, -1))
@pytest.mark.parametrize("speed", (90.0, 240.0, 600.0))
def test_a_subject_walking_out_of_the_frame_is_gone_within_half_a_second(speed, direction):
    """The detector loses a face once 40 % of it is out; its track must not coast on outside the picture."""
    tracker = Tracker()
    start = 640.0 + direction * 400.0
    lost_at = None
    for i in range(int(5 * FPS)):
        cx = start + direction * speed * i / FPS
        det = face(cx, 360)
        seen = share_inside(det.pixel_box) >= 0.6
        if not seen and lost_at is None:
            lost_at = i
        tracks = tracker.update(Observation(i / FPS, (det,) if seen else (), OPEN, frame_size=FRAME))
        for track in tracks:
            assert share_inside(track.box) >= 0.5, (i, track.box)
        if lost_at is not None and i - lost_at >= 0.5 * FPS:
            assert tracks == () and tracker.predicted(i / FPS) == [], f"still tracked {(i - lost_at) / FPS:.2f} s after"
    assert lost_at is not None


def test_a_subject_who_stops_half_out_at_the_edge_is_held_with_its_box_in_the_frame():
    """Only motion out of the picture ends a track: one standing at the edge, briefly unseen, keeps its ID."""
    tracker = Tracker(TrackerConfig(hold_s=1.0))
    for i in range(60):  # walks right at 600 px/s, then stands half out of the picture for a second
        cx = min(1280.0, 1000 + 20 * i)
        tracks = tracker.update(Observation(i / FPS, (face(cx, 360),), OPEN, frame_size=FRAME))
    (track,) = tracks
    for i in range(60, 75):  # the detector misses it for half a second
        (held,) = tracker.update(Observation(i / FPS, (), OPEN, frame_size=FRAME))
        assert held.id == track.id and held.coasting and share_inside(held.box) >= 0.5
    (back,) = tracker.update(Observation(75 / FPS, (face(1280, 360),), OPEN, frame_size=FRAME))
    assert back.id == track.id and not back.coasting


def test_without_a_frame_size_tracks_coast_as_before():
    tracker = Tracker(TrackerConfig(hold_s=1.0))
    for i in range(10):
        step(tracker, i, face(1200 + 10 * i, 300))
    for i in range(10, 25):  # walks out, unseen: without the frame's size the tracker cannot know
        (track,) = tracker.update(Observation(i / FPS, (), OPEN))
    assert track.coasting and track.box[0] > 1280


@pytest.mark.parametrize("how", ("flag", "reset"))
def test_a_cut_ends_every_track_and_no_subject_keeps_its_id_or_label(how):
    tracker = Tracker()
    for i in range(10):
        before = step(tracker, i, face(300, 300), face(900, 400))
    assert {t.label for t in before} == {"A", "B"}
    old_ids = {t.id for t in before}
    # the next shot happens to have faces in the same places: they are still other subjects
    if how == "reset":
        tracker.reset()
    cut = tracker.update(Observation(10 / FPS, (face(300, 300), face(900, 400)), WHOLE, cut=how == "flag"))
    assert cut == ()  # new tracks need their confirmation hits like any other
    for i in range(11, 20):
        after = step(tracker, i, face(300, 300), face(900, 400))
    assert len(after) == 2
    assert not old_ids & {t.id for t in after}
    assert min(t.id for t in after) > max(old_ids)  # IDs are never reused
    assert {t.label for t in after} == {"A", "B"}  # the labels were freed and went to the new subjects
    with pytest.raises(ValueError, match="no subject"):
        tracker.assign_label("A", min(old_ids))


def test_a_bad_frame_size_is_rejected():
    with pytest.raises(ValueError, match="frame_size"):
        Observation(0.0, (), (), frame_size=(0, 720))
