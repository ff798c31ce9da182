"""What machine a benchmark ran on: CPU model, vector ISA, BLAS kernels and the OpenBLAS settings.

Every benchmark prints ``describe()`` first, since figures from an AVX2 machine and an AVX-512 one are
not comparable (and a preset ``OPENBLAS_CORETYPE`` changes NumPy's kernels).

    python benchmarks/machine.py
"""
import os
import platform


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def vector_isa():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    if "avx512f" in flags:
        return "AVX-512"
    return "AVX2" if "avx2" in flags else ("AVX" if "avx" in flags else "SSE")


def blas_kernels():
    """``['openblas 0.3.31 Haswell (numpy)', ...]`` for every BLAS loaded so far (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["unknown (pip install threadpoolctl)"]
    out = []
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            where = "numpy" if "numpy" in info.get("filepath", "") else \
                "scipy" if "scipy" in info.get("filepath", "") else os.path.basename(info.get("filepath", ""))
            out.append(f"{info.get('internal_api')} {info.get('version')} {info.get('architecture')} ({where})")
    return out or ["none loaded"]


def describe():
    """One line per fact, for the top of a benchmark's output."""
    import numpy  # noqa: F401  (loads NumPy's BLAS so that it is listed)
    pins = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    return "\n".join([
        f"cpu: {cpu_model()} ({os.cpu_count()} cores), vector ISA {vector_isa()}",
        f"blas: {', '.join(blas_kernels())}",
        f"openblas settings: {pins}",
        f"python {platform.python_version()}",
    ])


if __name__ == "__main__":
    print(describe())
