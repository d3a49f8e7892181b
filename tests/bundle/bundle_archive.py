"""A bundle's tar entries, read and packed again, for tests that make bad bundles."""
import gzip
import io
import tarfile


def entries_of(archive):
    """The (name, bytes) pairs of a bundle, in order."""
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]


def repack(entries):
    """A tar.gz of (name, bytes) pairs, in order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(out.getvalue())
