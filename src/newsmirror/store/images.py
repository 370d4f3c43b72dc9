"""Archived images: content-addressed files on a branch of their own, apart from the articles.

An image is kept at ``<2 hex>/<2 hex>/<sha-256>.<ext>`` (``ab/cd/abcd….jpg``): the same bytes
always land on the same path, so an image shared by many articles is kept once, and with two
levels of 256 folders no folder holds more than 256 entries until the branch holds about ten
million images — far past the size GitHub advises for a repository.

The branch (``images`` by default) lives in the archive's repository or in a repository of its
own (a bare clone is enough), so that cloning the articles — the workflow fetches one branch —
never downloads the pictures.  Its commits are built from blobs and trees with git's plumbing,
never checked out: in the hourly job the branch is fetched without blobs (``--filter=blob:none``)
and only what the run adds is written.  Each commit records the branch's totals as trailers
(``Images:`` and ``Image-bytes:``), which ``status`` reports without reading any picture.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ..exceptions import PublishError, StorageError
from ..git import git
from ..publish import identity
from ..types import PushResult

TYPES: Final = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
"""Leading bytes of the kinds of picture kept, and their extension (WebP and AVIF in ``sniff``).
SVG is not among them: it is a document that can carry script."""
_TRAILER: Final = re.compile(r"^(Images|Image-bytes): (\d+)$", re.MULTILINE)
_REMOTE_GITHUB: Final = re.compile(r"github\.com[:/]+([^/\s]+)/([^/\s]+?)(?:\.git)?/*$")


def sniff(data: bytes) -> str | None:
    """The extension of a picture recognised by its first bytes (JPEG, PNG, GIF, WebP, AVIF);
    None for anything else, whatever its Content-Type said (an HTML error page, SVG, text)."""
    for magic, extension in TYPES:
        if data.startswith(magic):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "avif"
    return None


def what_it_is(data: bytes) -> str:
    """A few words on what bytes that are not a picture look like, for the reported reason."""
    head = data[:512].lstrip().lower()
    if not head:
        return "empty"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "an HTML page"
    if b"<svg" in head:
        return "SVG (not archived: it can carry script)"
    return f"not a known picture (starts {data[:8].hex(' ')})"


def image_path(data: bytes, extension: str) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest[2:4]}/{digest}.{extension}"


@dataclass(frozen=True, slots=True)
class ImageTotals:
    """What the images branch holds, from its newest commit's trailers."""

    branch: str
    images: int
    bytes: int


@dataclass(slots=True)
class ImageStore:
    """The images branch ``branch`` of the repository at ``root`` (a working tree or a bare one)."""

    root: Path
    branch: str = "images"
    pending: dict[str, tuple[str, int]] = field(default_factory=dict)
    """path → (blob id, size) of the pictures added since the last commit."""
    _known: set[str] = field(default_factory=set)

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.branch}"

    def tip(self) -> str | None:
        found = git(self.root, "rev-parse", "-q", "--verify", f"{self.ref}^{{commit}}", check=False)
        return found.stdout.strip() or None

    def prepare(self) -> None:
        """Have the branch's newest commit from a remote when the repository lacks it (a fresh
        clone of the articles' branch): its trees only, no picture."""
        if self.tip() is not None:
            return
        for remote in git(self.root, "remote").stdout.split():
            listed = git(self.root, "ls-remote", "--heads", remote, self.ref, check=False)
            if listed.returncode == 0 and listed.stdout.strip():
                spec = f"+{self.ref}:{self.ref}"
                done = git(
                    self.root, "fetch", "-q", "--depth=1", "--filter=blob:none", remote, spec, check=False
                )
                if done.returncode != 0:
                    raise StorageError(
                        f"{self.root}: cannot fetch {self.branch} from {remote}: {done.stderr.strip()}"
                    )
                return

    def add(self, data: bytes, extension: str) -> str:
        """Keep a picture; its path on the branch (the same bytes: the same path, kept once)."""
        path = image_path(data, extension)
        if path in self.pending or path in self._known or self._on_branch(path):
            self._known.add(path)
            return path
        blob = git(self.root, "hash-object", "-w", "--stdin", stdin=data, text=False).stdout.decode().strip()
        self.pending[path] = (blob, len(data))
        return path

    def _on_branch(self, path: str) -> bool:
        tip = self.tip()
        if tip is None:
            return False
        # ls-tree reads trees only: a blob missing from a partial clone is never downloaded
        return bool(git(self.root, "ls-tree", tip, "--", path).stdout.strip())

    def commit(self, message: str) -> str | None:
        """Commit the pending pictures onto the branch; the commit, None when there were none."""
        if not self.pending:
            return None
        tip = self.tip()
        before = self.totals()
        added = sum(size for _, size in self.pending.values())
        lines = "".join(f"100644 {blob}\t{path}\n" for path, (blob, _) in sorted(self.pending.items()))
        tree, count = self._tree(tip, lines)
        body = f"{message.rstrip()}\n\nImages: {count}\nImage-bytes: {before.bytes + added}\n"
        commit = self._commit_tree(tree, [tip] if tip else [], body)
        git(self.root, "update-ref", self.ref, commit, tip or "0" * 40)
        self.pending.clear()
        return commit

    def _tree(self, base: str | None, index_info: str, *, merge: str | None = None) -> tuple[str, int]:
        """A tree of ``base`` plus the entries of ``index_info`` (and those of ``merge`` that
        ``base`` lacks), built in an index of its own; the tree and its number of files."""
        handle, index = tempfile.mkstemp(prefix="newsmirror-images-", suffix=".index")
        os.close(handle)
        os.unlink(index)  # git writes the index itself; an empty file is not one
        env = {"GIT_INDEX_FILE": index}
        try:
            if base is not None:
                git(self.root, "read-tree", base, env=env)
            if merge is not None:
                have = set(git(self.root, "ls-files", env=env).stdout.splitlines())
                theirs = git(self.root, "ls-tree", "-r", "--full-tree", merge).stdout.splitlines()
                index_info += "".join(f"{line}\n" for line in theirs if line.split("\t", 1)[1] not in have)
            git(self.root, "update-index", "--add", "--index-info", stdin=index_info, env=env)
            tree = git(self.root, "write-tree", env=env).stdout.strip()
            count = len(git(self.root, "ls-files", env=env).stdout.splitlines())
        finally:
            if os.path.exists(index):
                os.unlink(index)
        return tree, count

    def _commit_tree(self, tree: str, parents: list[str], message: str) -> str:
        args = [a for p in parents for a in ("-p", p)]
        who = identity(self.root)
        return git(self.root, *who, "commit-tree", tree, *args, "-F", "-", stdin=message).stdout.strip()

    def totals(self) -> ImageTotals:
        """What the branch holds, read from its newest commit — the local branch, else a remote's
        as last fetched (zeros when there is none)."""
        tip = self.tip() or self._remote_tip()
        if tip is None:
            return ImageTotals(self.branch, 0, 0)
        message = git(self.root, "log", "-1", "--format=%B", tip).stdout
        found = dict(_TRAILER.findall(message))
        return ImageTotals(self.branch, int(found.get("Images", 0)), int(found.get("Image-bytes", 0)))

    def _remote_tip(self) -> str | None:
        listed = git(
            self.root, "for-each-ref", "--format=%(objectname)", f"refs/remotes/*/{self.branch}", check=False
        )
        tips = listed.stdout.split()
        return tips[0] if tips else None

    def push(self, *, retries: int = 3) -> tuple[PushResult, ...]:
        """Push the branch to every remote: a result per remote, named ``remote (branch)``.

        The branch only ever grows by new files, so a remote that moved meanwhile (another
        writer) is joined, not fought: its tip is fetched and a merge commit holding both sides'
        files (the same path is the same picture) is pushed instead; never a force-push."""
        if self.tip() is None:
            return ()
        results = []
        for remote in git(self.root, "remote").stdout.split():
            try:
                problem = self._push_to(remote, retries)
            except PublishError as e:
                problem = e.message
            name = f"{remote} ({self.branch})"
            results.append(PushResult(name, ok=problem is None, message=problem or ""))
        return tuple(results)

    def _push_to(self, remote: str, retries: int) -> str | None:
        for _ in range(retries + 1):
            done = git(self.root, "push", "-q", "--porcelain", remote, f"{self.ref}:{self.ref}", check=False)
            if done.returncode == 0:
                return None
            if "rejected" not in done.stdout and "[rejected]" not in done.stderr:
                return done.stderr.strip() or done.stdout.strip()
            self._join(remote)
        return f"{self.branch} still rejected after {retries + 1} tries"

    def _join(self, remote: str) -> None:
        theirs_ref = f"refs/newsmirror/{remote}/{self.branch}"
        # not shallow: the commits both sides share must be here, to count what they hold
        done = git(
            self.root,
            "fetch",
            "-q",
            "--filter=blob:none",
            remote,
            f"+{self.ref}:{theirs_ref}",
            check=False,
        )
        if done.returncode != 0:
            raise PublishError(
                f"{self.root}: cannot fetch {self.branch} from {remote}: {done.stderr.strip()}"
            )
        theirs = git(self.root, "rev-parse", theirs_ref).stdout.strip()
        ours = self.tip()
        assert ours is not None
        base = git(self.root, "merge-base", ours, theirs, check=False).stdout.strip()
        tree, count = self._tree(ours, "", merge=theirs)
        # bytes: both sides' totals less what they share; a picture both sides added since is
        # counted twice (rare), and without the shared commit (shallow) what they share too
        size = (
            _bytes_of(self.root, ours)
            + _bytes_of(self.root, theirs)
            - (_bytes_of(self.root, base) if base else 0)
        )
        body = f"newsmirror: images joined with {remote}\n\nImages: {count}\nImage-bytes: {size}\n"
        commit = self._commit_tree(tree, [ours, theirs], body)
        git(self.root, "update-ref", self.ref, commit, ours)


def _bytes_of(root: Path, commit: str) -> int:
    found = dict(_TRAILER.findall(git(root, "log", "-1", "--format=%B", commit).stdout))
    return int(found.get("Image-bytes", 0))


def github_url(root: Path, branch: str) -> str | None:
    """Where GitHub serves the branch's files, from the ``origin`` remote: None when that is not
    on GitHub."""
    url = git(root, "remote", "get-url", "origin", check=False).stdout.strip()
    found = _REMOTE_GITHUB.search(url.split("@")[-1] if "://" in url else url.replace(":", "/", 1))
    if found is None:
        return None
    owner, name = found.groups()
    return f"https://github.com/{owner}/{name}/raw/{branch}/"
