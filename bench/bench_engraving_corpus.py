"""Engraving real notation files: how many engrave, how many are refused (and why), none may raise; time per file.

``python -m bench engraving corpus [PATH ...]`` (or ``BENCH_CORPUS=path:path``): every ``.cho .chordpro .chopro .crd
.pro .musicxml .xml .mxl`` file under the paths (default: the suite's corpora, tests/fixtures/notation/
chordpro-reference and musicxml-corpus). Each file is inspected as sync does and engraved in process at 800 px for
its own part and for a B♭ part (what a trumpet opens; for MusicXML, when the score has a pitched staff). The
baseline, measured in the same run: ``render_page`` of the fixture chart PDFs (one PDF page, the thing an engraved
page stands in for). Writes ``engraving_corpus`` in results.json; ``--no-save`` for a look at a big corpus (e.g. all
of music21's) without replacing the suite corpus's entry.

Getting a bigger corpus (nothing of it is committed): ``fetch`` a repository, then
``python -m bench.bench_engraving_corpus extract-chordpro GIT_DIR OUT`` writes the reference ChordPro
implementation's test songs (every .cho/.crd under t/, and each here-document song in t/*.t) as the suite's
chordpro-reference/ was made; ``extract-w3c GIT_DIR OUT`` the complete scores among the W3C MusicXML examples.
"""

from __future__ import annotations

import collections
import html
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO_ROOT, Report, Target, ratio, summary

NOTATION = REPO_ROOT / "tests" / "fixtures" / "notation"
DEFAULT_PATHS = [NOTATION / "chordpro-reference", NOTATION / "musicxml-corpus"]
CHARTS = REPO_ROOT / "tests" / "fixtures" / "charts"
EXTENSIONS = (".cho", ".chordpro", ".chopro", ".crd", ".pro", ".musicxml", ".xml", ".mxl")
WIDTH = 800


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix.lower() in EXTENSIONS)
    return out


def _pdf_baseline() -> list[float]:
    """ms to render one PDF page at 800 px (every page of the fixture charts, 3 rounds)."""
    import pypdfium2 as pdfium

    from soleil_ui.rendering import render_page

    samples: list[float] = []
    pdfs = [p.read_bytes() for p in sorted(CHARTS.glob("*.pdf"))]
    render_page(pdfs[0], 0, WIDTH)
    for _ in range(3):
        for data in pdfs:
            for index in range(len(pdfium.PdfDocument(data))):
                start = time.perf_counter()
                render_page(data, index, WIDTH)
                samples.append((time.perf_counter() - start) * 1000)
    return samples


def run(paths: list[Path], save: bool = True) -> Report:
    from soleil_ui.engraving import EngraveSpec, engrave, inspect_source
    from soleil_ui.errors import BrokenFile
    from soleil_ui.parts import PartRef, Transposition

    files = _files(paths)
    if not files:
        raise SystemExit(f"no notation files under {', '.join(map(str, paths))}")
    bb = PartRef(transposition=Transposition.BB)
    counts: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    raised: list[str] = []
    per_file: dict[str, list[float]] = {"chordpro": [], "musicxml": []}
    per_page: dict[str, list[float]] = {"chordpro": [], "musicxml": []}
    _warm_up(files[0])  # verovio, fonts
    for path in files:
        data = path.read_bytes()
        kind = "chordpro" if path.suffix.lower() in EXTENSIONS[:5] else "musicxml"
        start = time.perf_counter()
        try:
            info = inspect_source(data, path.name, kind=kind)  # type: ignore[arg-type]
            pages = engrave(data, EngraveSpec(info.default_part, kind=kind), WIDTH)  # type: ignore[arg-type]
            if kind == "chordpro" or any(not p.percussion for p in info.parts):
                pages += engrave(data, EngraveSpec(bb, kind=kind), WIDTH)  # type: ignore[arg-type]
        except BrokenFile as exc:
            counts[f"{kind} listed"] += 1
            reasons[exc.user_message] += 1
            continue
        except Exception as exc:  # the point is to count them
            counts[f"{kind} raised"] += 1
            raised.append(f"{path.name}: {type(exc).__name__}: {exc}"[:300])
            continue
        elapsed = (time.perf_counter() - start) * 1000
        counts[f"{kind} engraved"] += 1
        per_file[kind].append(elapsed)
        per_page[kind].append(elapsed / max(1, len(pages)))
    baseline = _pdf_baseline()
    pdf_p50 = summary(baseline)["p50"]
    report = Report("engraving_corpus", "Engraving real notation files (reference ChordPro songs, MusicXML "
                                        "corpora): counts and time per file, beside a PDF page render")
    report.row("PDF page: render_page p50 (baseline)", pdf_p50, unit=" ms")
    figures: dict[str, object] = {
        "paths": [str(p.relative_to(REPO_ROOT)) if p.is_relative_to(REPO_ROOT) else str(p) for p in paths],
        "files": len(files), "counts": dict(sorted(counts.items())), "listed_reasons": dict(reasons.most_common()),
        "raised": raised, "width": WIDTH, "pdf_render_page_ms": summary(baseline),
        "parts_per_file": "own part + B♭ part (ChordPro always; MusicXML when it has a pitched staff)",
    }
    for kind in ("chordpro", "musicxml"):
        if not per_file[kind]:
            continue
        files_ms, pages_ms = summary(per_file[kind]), summary(per_page[kind])
        figures[kind] = {"ms_per_file": files_ms, "ms_per_page": pages_ms, "total_s": round(sum(per_file[kind]) / 1000,
                                                                                             2),
                         "ratio_page_p50_vs_pdf_page_p50": ratio(pages_ms["p50"], pdf_p50),
                         "ratio_page_p95_vs_pdf_page_p50": ratio(pages_ms["p95"], pdf_p50)}
        report.row(f"{kind}: files engraved / listed / raised",
                   f"{counts[f'{kind} engraved']} / {counts[f'{kind} listed']} / {counts[f'{kind} raised']}")
        report.row(f"{kind}: ms per file p50 (2 parts)", files_ms["p50"], unit=" ms")
        report.row(f"{kind}: ms per file p95", files_ms["p95"], unit=" ms")
        report.row(f"{kind}: ms per page p50", pages_ms["p50"], pdf_p50, " ms", (pages_ms["p50"], pdf_p50))
        report.row(f"{kind}: ms per page p95", pages_ms["p95"], pdf_p50, " ms", (pages_ms["p95"], pdf_p50))
    report.figures = figures
    report.targets = [Target("files whose engraving raises (not a BrokenFile with a reason)", len(raised), "<=", 0)]
    if per_page["musicxml"]:
        report.targets.append(Target("MusicXML page p95 / PDF page render p50", figures["musicxml"][  # type: ignore
            "ratio_page_p95_vs_pdf_page_p50"], "<=", 10.0, "×", source="proposed"))
    for reason, n in reasons.most_common():
        report.notes.append(f"listed ({n}): {reason}")
    for line in raised[:20]:
        report.notes.append(f"RAISED {line}")
    if save:
        report.save()
    report.show()
    return report


def _warm_up(path: Path) -> None:
    from soleil_ui.engraving import EngraveSpec, engrave, inspect_source
    from soleil_ui.errors import BrokenFile

    try:
        info = inspect_source(path.read_bytes(), path.name)
        engrave(path.read_bytes(), EngraveSpec(info.default_part, kind=info.kind), WIDTH)
    except BrokenFile:
        pass


# --- making corpora from fetched repositories (see the module doc) ----------------------------------------------------


def _git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, check=True).stdout


def extract_chordpro(git_dir: str, out: Path) -> int:
    """The reference ChordPro implementation's test songs: .cho/.crd files under t/, and here-document songs in t/*.t
    (a block that has a ``{directive}`` or a ``[chord]`` and isn't JSON, Perl or a reference output)."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for name in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", "t/").decode().split():
        data = _git(git_dir, "show", f"HEAD:{name}")
        if name.endswith((".cho", ".crd")):
            (out / name[2:].replace("/", "_")).write_bytes(data)
            count += 1
        elif name.endswith(".t"):
            text = data.decode("utf-8", "replace")
            for n, match in enumerate(re.finditer(r"<<\s*'?(EOD)'?\s*;?[^\n]*\n(.*?)\n\1\n", text, re.S), 1):
                body = match.group(2)
                lines = [line for line in body.splitlines() if line.strip()]
                json_like = body.lstrip().startswith(("{ \"", "{\"", "{\n", "[", "<", "%", "---"))
                if not lines or (json_like and not re.search(r"^\{\w+[:}\s]", body, re.M)):
                    continue
                if any(re.match(r"\s*\{[A-Za-z_+]", line) or re.search(r"\[[^\]]+\]", line) for line in lines):
                    (out / f"{Path(name).stem}_{n}.cho").write_text(body + "\n")
                    count += 1
    return count


def extract_w3c(git_dir: str, out: Path) -> int:
    """The complete scores (``<score-partwise>``/``<score-timewise>`` documents) among the W3C MusicXML examples."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for name in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", "docs/musicxml-reference/examples"
                     ).decode().split():
        text = html.unescape(re.sub(r"<[^>]+>", "", _git(git_dir, "show", f"HEAD:{name}").decode()))
        found = list(re.finditer(r"(<score-(partwise|timewise)(?:\s[^>]*)?>\s*<.*?</score-\2>)", text, re.S))
        if not found:
            continue
        match = max(found, key=lambda m: len(m.group(1)))
        doc = match.group(1)[match.group(1).rfind("<score-" + match.group(2)):]
        (out / f"{name.split('/')[-2]}.musicxml").write_text('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
                                                            + doc + "\n")
        count += 1
    return count


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(REPO_ROOT))
    if argv[:1] == ["extract-chordpro"] and len(argv) == 3:
        print(extract_chordpro(argv[1], Path(argv[2])), "songs")
        return 0
    if argv[:1] == ["extract-w3c"] and len(argv) == 3:
        print(extract_w3c(argv[1], Path(argv[2])), "scores")
        return 0
    save = "--no-save" not in argv
    args = [a for a in argv if a != "--no-save"]
    env = [Path(p) for p in os.environ.get("BENCH_CORPUS", "").split(os.pathsep) if p]
    run([Path(a) for a in args] or env or DEFAULT_PATHS, save=save)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
