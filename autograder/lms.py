"""LMS exports: turn a Canvas or Moodle "download all submissions" zip into the grading command's folder.

    unpacked = unpack(Path("export.zip"), dest)   # dest gets <student_id>/<assignment>/<notebook>.ipynb
    unpacked.unmatched                            # files that could not be used, each with the reason

The zip is screened first (autograder.safezip: limits on inflated sizes, no unsafe names, links or
devices, a student's own zip unpacked at most two levels deep; each entry refused is named with the
reason), then what passed goes through nbgrader's own zip_collect (ZipCollectApp, its ExtractorPlugin and
a FileNameCollectorPlugin with the LMS's named_regexp) in a private copy of the course, in temporary space;
nothing is written into the repository, and dest gets only the notebooks graded. How the two systems name
files (read from their source):

* Canvas, "Download Submissions" (lib/content_zipper.rb): `<lastfirst>_[LATE_]<user id>_<file id>_<name>`,
  `anon_<id>` instead of name and user id when grading is anonymous; a student who uploads a file whose
  name is already taken gets `<stem>-1<ext>`, `-2`, ... (Attachment.make_unique_filename).
* Moodle, "Download all submissions" (mod/assign/locallib.php): `<Full Name>_<participant id>_assignsubmission
  _file_/<name>` with one folder per student (the default), or the same prefix glued to the file name;
  `Participant` instead of the name under blind marking; a second upload with a taken name becomes
  `<stem> (1)<ext>` (file_storage::get_unused_filename).

Each file is mapped to its assignment by its name (after removing those suffixes, a browser's " (1)" and
Jupyter's "-Copy1"), or else by its content (the assignment whose graded cells it carries). Of several
files that map to the same student and notebook, the highest resubmission number wins, the exact name
beats a renamed copy; the others are named in the student's notes. Files that cannot be used at all, and
entries refused by the screening, are returned as Unmatched with the reason; the grading command lists
them and puts them in summary.csv.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin

from autograder import course, report, safezip

# The named_regexp handed to nbgrader. nbgrader applies it with re.match to the absolute path of every
# extracted file, so each starts with `.*/`. The last component that fits is the LMS's name for the
# upload; anything after it is inside a zip the student uploaded (unpacked into a folder named like it).
CANVAS_REGEXP = (
    r".*/(?:(?P<last_name>[^/_]*)_)??(?P<late>LATE_)?(?P<student_id>\d+|anon_[0-9A-Za-z]+)"
    r"_(?P<attachment>\d+)_(?P<file_id>[^/]+)(?:/.+)?$"
)
MOODLE_REGEXP = (
    r".*/(?P<first_name>[^/]+?)_(?P<student_id>\d+)_assignsubmission_file_"
    r"(?:/(?:.+/)?)?(?P<file_id>[^/]+)$"
)
REGEXPS = {"canvas": CANVAS_REGEXP, "moodle": MOODLE_REGEXP}
# Who a file belongs to when it is not an uploaded file: Canvas text and URL entries, Moodle online text.
CANVAS_OWNER = re.compile(r"(?:^|/)(?:[^/_]*_)??(?:LATE_)?(\d+|anon_[0-9A-Za-z]+)_(?:text|link)\.html$")
MOODLE_OWNER = re.compile(r"(?:^|/)[^/]+?_(\d+)_assignsubmission_[a-z]+_")
# The student's name as the LMS wrote it before the id: Canvas' "lastfirst" (lower case, no spaces),
# Moodle's full name ("Participant" under blind marking).
NAMES = {
    "canvas": re.compile(
        r"(?:^|/)(?:([^/_]+)_)??(?:LATE_)?(\d+|anon_[0-9A-Za-z]+)_(?:\d+_|text\.html|link\.html)"
    ),
    "moodle": re.compile(r"(?:^|/)([^/]+?)_(\d+)_assignsubmission_[a-z]+_"),
}

ARCHIVE = "export.zip"  # the name the export gets inside the private course
MANIFEST = "lms-manifest.json"
SUFFIXES = {
    "canvas": re.compile(r"^(?P<stem>.+)-(?P<n>\d+)$"),
    "moodle": re.compile(r"^(?P<stem>.+) \((?P<n>\d+)\)$"),
}
# Renames students make themselves: a browser's second download, JupyterLab's "Duplicate".
COPY_SUFFIXES = [re.compile(r"^(?P<stem>.+) \((?P<n>\d+)\)$"), re.compile(r"^(?P<stem>.+)-Copy(?P<n>\d*)$")]


@dataclass(frozen=True)
class Unmatched:
    """A file of the export that was not graded, and why."""

    file: str  # its path inside the zip
    reason: str
    student_id: str = ""  # the LMS's id for the student, when the file name gives it
    assignment: str = ""  # when known from the file or from the rest of the export
    refused: bool = False  # never unpacked: unsafe, too large or damaged (safezip)


@dataclass(frozen=True)
class Collected:
    """A file of the export that is graded as one student's notebook."""

    file: str
    student_id: str
    assignment: str
    notebook: str


@dataclass
class Unpacked:
    """What unpack() did: which LMS made the export, what is graded, what is not, and notes per submission."""

    lms: str  # "canvas", "moodle" or "unknown"
    collected: list[Collected] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # student id -> name as the export's files give it


@dataclass
class _Candidate:
    """One notebook file of the export, with what its name and content say."""

    file: str
    student_id: str
    assignment: str
    notebook: str
    version: int  # the LMS's resubmission number: Canvas -N, Moodle (N); 0 for the first upload
    exact: bool  # named exactly like the released notebook (after the LMS's suffix)
    copies: int  # a browser's (N) or Jupyter's CopyN on top
    late: bool
    note: str = ""

    def rank(self) -> tuple:
        """Higher is newer: the one graded when several files are the same notebook."""
        return (self.version, self.exact, self.copies, self.file)


def known_notebooks() -> dict[str, tuple[str, str]]:
    """Released notebook file name -> (assignment, name)."""
    return {name: (a, name) for a in course.assignments() for name in course.notebook_names(a)}


def _slug(name: str) -> str:
    """A file stem compared loosely: case, spaces, '-' and '_' do not matter."""
    return re.sub(r"[\W_]+", "", name.lower())


def match_name(filename: str, lms: str) -> tuple[str, str, int, bool, int] | None:
    """(assignment, notebook, version, exact, copies) for an uploaded file name, or None."""
    known = known_notebooks()
    by_slug = {_slug(Path(n).stem): v for n, v in known.items()}
    stem = Path(filename).stem
    version = copies = 0
    exact = True
    own = SUFFIXES.get(lms)
    for _ in range(4):  # e.g. "01_activations (1)-2": peel the suffixes one by one
        if f"{stem}.ipynb" in known:
            return (*known[f"{stem}.ipynb"], version, exact, copies)
        if _slug(stem) in by_slug:
            return (*by_slug[_slug(stem)], version, False, copies)
        found = own.match(stem) if own else None
        if found and version == 0:
            stem, version = found["stem"], int(found["n"])
            continue
        for pattern in COPY_SUFFIXES:
            found = pattern.match(stem)
            if found:
                stem, exact = found["stem"], False
                copies = copies or int(found["n"] or 1)
                break
        else:
            return None
    return None


def match_content(path: Path) -> tuple[tuple[str, str] | None, str]:
    """(assignment, notebook) that a notebook with an unknown name belongs to, by its graded cells.

    Returns None and the reason when it belongs to none.
    """
    from autograder import repair

    nb, problem = repair.read_notebook(path)
    if nb is None:
        return None, problem
    counts = repair.belongs_to(nb)
    best = max(counts, key=counts.get, default=None)
    names = ", ".join(sorted(known_notebooks()))
    if best is None or counts[best] == 0:
        return (
            None,
            f"{path.name} is not named like a notebook of this course ({names}) and its cells match no assignment",
        )
    found = course.notebook_names(best)
    if len(found) != 1:
        return None, f"{path.name} has cells of {best} but its name says which of its notebooks it is not"
    return (best, found[0]), ""


def detect(files: list[str]) -> str:
    """Which LMS named these files: 'moodle', 'canvas' or 'unknown'."""
    if any(MOODLE_OWNER.search(f) for f in files):
        return "moodle"
    if any(re.match(CANVAS_REGEXP, "/" + f) for f in files):
        return "canvas"
    return "unknown"


def owner(file: str, lms: str) -> str:
    """The LMS's student id in a file's path inside the export, or ''."""
    if lms not in REGEXPS:
        return ""
    found = re.match(REGEXPS[lms], "/" + file)
    if found:
        return found["student_id"]
    found = (MOODLE_OWNER if lms == "moodle" else CANVAS_OWNER).search(file)
    return found.group(1) if found else ""


def _extracted_files(extracted: Path) -> list[str]:
    """Every file the screening unpacked, as paths relative to the extracted folder."""
    files = []
    for root, dirs, names in os.walk(extracted):
        dirs[:] = [d for d in dirs if d != "__MACOSX"]  # macOS resource forks, not uploads
        for name in names:
            if name == ".DS_Store":
                continue
            files.append(Path(root, name).relative_to(extracted).as_posix())
    return sorted(files)


def _shown(rel: str) -> str:
    """A file's path as the instructor sees it inside the export zip."""
    return rel.removeprefix(Path(ARCHIVE).stem + "/")


def classify(extracted: Path, files: list[str], lms: str) -> tuple[list[_Candidate], list[Unmatched]]:
    """Split the extracted files into notebook candidates and files that cannot be graded."""
    candidates: list[_Candidate] = []
    unmatched: list[Unmatched] = []
    for rel in files:
        shown = _shown(rel)
        student = owner(shown, lms)
        if lms == "unknown":
            unmatched.append(Unmatched(shown, "the export is neither a Canvas nor a Moodle download"))
            continue
        suffix = Path(rel).suffix.lower()
        match = re.match(REGEXPS[lms], "/" + rel)
        if suffix != ".ipynb":
            what = f"a {suffix} file" if suffix else "a file without extension"
            unmatched.append(
                Unmatched(shown, f"{what}, not a notebook: only .ipynb files are graded", student)
            )
            continue
        if not match:
            reason = f"the file name does not follow {lms.capitalize()}'s pattern, so its student is unknown"
            unmatched.append(Unmatched(shown, reason, student))
            continue
        student = match["student_id"]
        late = bool(match.groupdict().get("late"))
        # The name the student gave the file: what follows the LMS's prefix, or the name inside a zip.
        original = match["file_id"] if match.end("file_id") == len(match.string) else Path(rel).name
        found = match_name(original, lms)
        note = ""
        if found:
            assignment, notebook, version, exact, copies = found
            if not exact:
                note = f"{original} was graded as {notebook}"
        else:
            by_content, problem = match_content(extracted / rel)
            if by_content is None:
                unmatched.append(Unmatched(shown, problem.replace(Path(rel).name, original, 1), student))
                continue
            assignment, notebook = by_content
            version, exact, copies = 0, False, 0
            note = f"{original} was graded as {notebook} (recognised by its cells; please keep the name)"
        candidates.append(
            _Candidate(shown, student, assignment, notebook, version, exact, copies, late, note)
        )
    return candidates, unmatched


def choose(candidates: list[_Candidate]) -> tuple[list[_Candidate], dict[tuple[str, str], list[str]]]:
    """The newest file of each (student, notebook), and notes on what was chosen and what was not."""
    groups: dict[tuple[str, str, str], list[_Candidate]] = defaultdict(list)
    for c in candidates:
        groups[(c.student_id, c.assignment, c.notebook)].append(c)
    winners = []
    notes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (student, assignment, _), group in sorted(groups.items()):
        group.sort(key=_Candidate.rank)
        best = group[-1]
        winners.append(best)
        key = (student, assignment)
        if best.late:
            notes[key].append("Canvas marked this submission LATE")
        if best.note:
            notes[key].append(best.note)
        for older in group[:-1]:
            notes[key].append(f"older upload {older.file} was replaced by {best.file}")
    return winners, dict(notes)


class LmsCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector, told by unpack() which released notebook each file is.

    nbgrader still matches every file against named_regexp and skips what does not match; this class
    then keeps only the files unpack() chose for the assignment being collected, under the released
    notebook's name, so renamed and resubmitted files land where nbgrader and the grader expect them.
    """

    def collect(self, submitted_file: str) -> dict | None:
        info = super().collect(submitted_file)
        if not info:
            return None
        app = self.parent
        manifest = json.loads((Path(app.coursedir.root) / MANIFEST).read_text())
        extracted = app._format_collect_path(app.extracted_directory)
        entry = manifest.get(Path(os.path.relpath(submitted_file, extracted)).as_posix())
        if not entry or entry["assignment"] != app.coursedir.assignment_id:
            return None
        if entry["student_id"] != info["student_id"]:
            self.log.warning(
                "student id %s in %s disagrees with %s", info["student_id"], submitted_file, entry
            )
            return None
        return {"student_id": info["student_id"], "file_id": entry["notebook"]}


def _private_course(root: Path) -> Path:
    """A course copy with the committed student notebooks as nbgrader's release folder."""
    course.make_private_course(root, with_release=False)
    shutil.copytree(course.RELEASE, root / "notebooks", ignore=shutil.ignore_patterns(".*"))
    return root


def _zip_collect(root: Path, assignment: str, lms: str) -> subprocess.CompletedProcess:
    """Run `nbgrader zip_collect` for one assignment in the private course."""
    # nbgrader imports the collector plugin by name, so the repository must be importable there.
    pythonpath = os.pathsep.join(filter(None, [str(course.REPO), os.environ.get("PYTHONPATH", "")]))
    args = ["zip_collect", assignment, "--force", "--strict"]
    args += [f"--collector={LmsCollector.__module__}.{LmsCollector.__name__}"]
    args += [f"--FileNameCollectorPlugin.named_regexp={REGEXPS[lms]}"]
    return course.nbgrader(root, *args, timeout=600, extra_env={"PYTHONPATH": pythonpath})


def _check_space(zip_path: Path, where: Path, limits: safezip.Limits) -> None:
    """Refuse to start when the disk cannot hold the unpacking, rather than fail half-way.

    In the temporary course the export's files exist about four times at most (screened, zipped again for
    nbgrader, extracted by it, collected); what the export declares is the guess, bounded by the limits.
    """
    needed = 4 * safezip.declared_size(zip_path, limits)
    free = shutil.disk_usage(where).free
    if free < needed:
        raise ValueError(
            f"{where} has {safezip.megabytes(free)} free, but unpacking {zip_path.name} needs about"
            f" {safezip.megabytes(needed)}; free some space or set TMPDIR to a larger disk"
        )


def _zip_for_nbgrader(extracted: Path, files: list[str], archive: Path) -> None:
    """The screened files given to zip_collect as its export: only those, at their paths in the export."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for file in files:
            out.write(extracted / file, file)


def unpack(zip_path: Path, dest: Path, limits: safezip.Limits | None = None) -> Unpacked:
    """Unpack an LMS export into dest as <student_id>/<assignment>/<notebook>.ipynb; say what was left out.

    dest is created; it must not hold anything yet, and it gets nothing else. Raises ValueError when
    zip_path is not a zip file or is damaged (safezip.DamagedArchive), or when the disk is too full.
    limits: how large the export's files may be (safezip.Limits(), 20 MB each, by default).
    """
    limits = limits or safezip.Limits()
    if dest.is_dir() and any(dest.iterdir()):
        raise ValueError(f"{dest} is not empty")
    safezip.require_zip(zip_path)  # before the space check reads it, for the clearer message
    with tempfile.TemporaryDirectory(prefix="lms-") as tmp:
        _check_space(zip_path, Path(tmp), limits)
        survey = Path(tmp) / "extracted"
        refused = safezip.extract(zip_path, survey / Path(ARCHIVE).stem, limits)
        files = _extracted_files(survey)
        lms = detect(files + [r.entry for r in refused])
        candidates, unmatched = classify(survey, files, lms)
        unmatched += [Unmatched(r.entry, r.reason, owner(r.entry, lms), refused=True) for r in refused]
        winners, notes = choose(candidates)
        root = _private_course(Path(tmp) / "course")
        manifest = {
            f"{Path(ARCHIVE).stem}/{w.file}": {
                "student_id": w.student_id,
                "assignment": w.assignment,
                "notebook": w.notebook,
            }
            for w in winners
        }
        (root / MANIFEST).write_text(json.dumps(manifest, indent=1))
        collected = []
        for assignment in sorted({w.assignment for w in winners}):
            chosen = [w for w in winners if w.assignment == assignment]
            archive = root / "downloaded" / assignment / "archive" / ARCHIVE
            _zip_for_nbgrader(survey / Path(ARCHIVE).stem, [w.file for w in chosen], archive)
            result = _zip_collect(root, assignment, lms)
            log = (result.stderr or result.stdout).strip().splitlines()
            for w in chosen:
                got = root / "submitted" / w.student_id / assignment / w.notebook
                if result.returncode == 0 and got.is_file():
                    target = dest / w.student_id / assignment / w.notebook
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(got, target)
                    collected.append(Collected(w.file, w.student_id, assignment, w.notebook))
                else:
                    reason = "nbgrader zip_collect did not collect it" + (f": {log[-1]}" if log else "")
                    unmatched.append(Unmatched(w.file, reason, w.student_id, assignment))
    dest.mkdir(parents=True, exist_ok=True)
    # A file the LMS says is a student's but that matched nothing most likely belongs to the export's
    # assignment, when the export holds one.
    only = {c.assignment for c in collected}
    if len(only) == 1:
        (assignment,) = only
        unmatched = [
            dataclasses.replace(u, assignment=assignment) if u.student_id and not u.assignment else u
            for u in unmatched
        ]
    return Unpacked(lms, collected, unmatched, notes, student_names(files + [r.entry for r in refused], lms))


def student_names(files: list[str], lms: str) -> dict[str, str]:
    """Student id -> the name the LMS put before it in the export's file names ('' when none)."""
    names: dict[str, str] = {}
    for file in files:
        found = NAMES[lms].search(_shown(file)) if lms in NAMES else None
        if found:
            names.setdefault(found.group(2), found.group(1) or "")
    return names


def unmatched_results(unpacked: Unpacked) -> list[report.Result]:
    """summary.csv rows for the files that were not graded: status 'unmatched', one per student and assignment."""
    reasons: dict[tuple[str, str], list[str]] = {}
    for u in unpacked.unmatched:
        reasons.setdefault((u.student_id, u.assignment), []).append(f"{u.file}: {u.reason}")
    return [report.Result(sid, aid, "unmatched", "; ".join(texts)) for (sid, aid), texts in reasons.items()]


def merge(results: list[report.Result], unpacked: Unpacked) -> list[report.Result]:
    """The graded results with the LMS notes added; unmatched files join their student's row or get their own.

    summary.csv keeps one row per (student, assignment): a file left out beside a graded notebook (a PDF, a
    text entry) is named in that row's message rather than in a second row.
    """
    by_key = {(r.student_id, r.assignment): r for r in results}
    extra_rows = []
    for row in unmatched_results(unpacked):
        graded = by_key.get((row.student_id, row.assignment))
        if graded is None:
            extra_rows.append(row)
        else:
            unpacked.notes.setdefault((row.student_id, row.assignment), []).append(
                f"also sent, not graded: {row.message}"
            )
    for result in results:
        extra = unpacked.notes.get((result.student_id, result.assignment), [])
        if extra:
            result.message = "; ".join(filter(None, [result.message, *extra]))
    return [*results, *extra_rows]


def describe(unpacked: Unpacked) -> str:
    """A few lines for the terminal: what the export was and every file that was left out, and why."""
    students = len({c.student_id for c in unpacked.collected})
    refused = sum(u.refused for u in unpacked.unmatched)
    lines = [
        f"{unpacked.lms.capitalize()} export: {len(unpacked.collected)} notebooks of {students} students collected"
        f" with nbgrader zip_collect, {len(unpacked.unmatched) - refused} files not matched"
        + (f", {refused} entries refused" if refused else "")
    ]
    for u in unpacked.unmatched:
        who = f" (student {u.student_id})" if u.student_id else ""
        lines.append(f"  {'refused' if u.refused else 'unmatched'}: {u.file}{who}: {u.reason}")
    return "\n".join(lines)
