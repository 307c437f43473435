"""Prepare with real ffmpeg: video (remux and re-encode), audio-only, and broken files."""

import shutil
import wave

import ffmpeg
import pytest

from pipeline.errors import MediaError
from pipeline.files import sha256_file
from pipeline.stages.prepare import prepare, probe


def streams(path):
    return {s["codec_type"]: s for s in probe(path)["streams"]}


def wav_format(path):
    with wave.open(str(path)) as w:
        return w.getnchannels(), w.getframerate(), w.getnframes() / w.getframerate()


def test_h264_video_is_remuxed(short_speech, tmp_path):
    source = tmp_path / "talk.mp4"
    shutil.copyfile(short_speech["mp4"], source)
    result = prepare(tmp_path, source, sha256_file(source))
    assert result.kind == "video"
    channels, rate, seconds = wav_format(result.audio)
    assert (channels, rate) == (1, 16000)
    assert seconds == pytest.approx(short_speech["truth"]["duration"], abs=0.1)
    got = streams(result.media)
    assert got["video"]["codec_name"] == "h264" and got["audio"]["codec_name"] == "aac"
    # Remuxed: the video stream is the source's, bit for bit in size.
    assert got["video"]["bit_rate"] == streams(source)["video"]["bit_rate"]
    assert result.media.read_bytes()[4:8] == b"ftyp" and b"moov" in result.media.read_bytes()[:4096]
    assert result.poster.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    # Published files are readable by everyone, like any file the user makes (not 0600).
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in (result.audio, result.media, result.poster))


@pytest.mark.parametrize("size, vcodec, acodec", [
    ("320x240", "mpeg4", "libvorbis"),
    # H.264 in 4:2:0 needs even sides, and screen recordings often have odd ones: the page's
    # video comes out a pixel smaller, not as an encoder error.
    ("641x481", "ffv1", "pcm_s16le"),
])
def test_other_codecs_are_encoded_to_h264(short_speech, tmp_path, size, vcodec, acodec):
    source = tmp_path / "talk.mkv"
    ffmpeg.output(ffmpeg.input(f"testsrc2=size={size}:rate=10", f="lavfi", t=3),
                  ffmpeg.input(str(short_speech["wav"]), t=3), str(source),
                  vcodec=vcodec, acodec=acodec).run(quiet=True)
    result = prepare(tmp_path, source, sha256_file(source))
    got = streams(result.media)
    assert got["video"]["codec_name"] == "h264" and got["audio"]["codec_name"] == "aac"
    assert got["video"]["pix_fmt"] == "yuv420p"
    width, height = (int(n) for n in size.split("x"))
    assert (int(got["video"]["width"]), int(got["video"]["height"])) == (width // 2 * 2, height // 2 * 2)


def test_audio_only_source(short_speech, tmp_path):
    source = tmp_path / "podcast.mp3"
    shutil.copyfile(short_speech["mp3"], source)
    result = prepare(tmp_path, source, sha256_file(source))
    assert result.kind == "audio" and result.poster is None
    assert result.media.name == "audio.m4a"
    assert set(streams(result.media)) == {"audio"}
    assert wav_format(result.audio)[:2] == (1, 16000)


def test_prepare_is_skipped_when_source_unchanged(short_speech, tmp_path):
    source = tmp_path / "talk.mp4"
    shutil.copyfile(short_speech["mp4"], source)
    first = prepare(tmp_path, source, sha256_file(source))
    mtimes = [p.stat().st_mtime_ns for p in (first.audio, first.media, first.poster)]
    second = prepare(tmp_path, source, sha256_file(source))
    assert second == first
    assert [p.stat().st_mtime_ns for p in (second.audio, second.media, second.poster)] == mtimes


def test_random_bytes_are_not_media(tmp_path):
    source = tmp_path / "fake.mp4"
    source.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(MediaError, match="cannot read it as audio or video") as caught:
        prepare(tmp_path, source, sha256_file(source))
    assert str(source) in caught.value.message
    assert not list(tmp_path.glob("*.wav")) and not list(tmp_path.glob("*tmp-*"))


def test_video_without_audio(tmp_path):
    source = tmp_path / "silent-film.mp4"
    ffmpeg.input("testsrc2=size=320x240:rate=10", f="lavfi", t=2).output(
        str(source), vcodec="libx264").run(quiet=True)
    with pytest.raises(MediaError, match="no audio track"):
        prepare(tmp_path, source, sha256_file(source))
