"""The one packaging rule pyproject.toml cannot state: hls/ installs as the package bitfab_hls.

The hardware library stays at the repository's top level (``hls/``); a wheel carries its
``include/`` and ``rtl/`` trees as the data-only package ``bitfab_hls``, beside ``flows`` in
site-packages, where flows/hwlib.py finds it. Packages are found by glob, so a new layer kind
or kernel directory needs no edit here; which data files go in is ``package-data`` in
pyproject.toml, where every other setting is.
"""

from setuptools import find_namespace_packages, setup

OURS = ["flows", "models", "boards"]  # the Python packages
HLS_PACKAGE = "bitfab_hls"  # flows.hwlib.INSTALLED_NAME
HLS_TREES = ["include", "include.*", "rtl", "rtl.*"]  # hls/tests are the kernels' own tests

setup(
    packages=find_namespace_packages(include=[f"{p}{s}" for p in OURS for s in ("", ".*")])
    + [HLS_PACKAGE]
    + [f"{HLS_PACKAGE}.{p}" for p in find_namespace_packages(where="hls", include=HLS_TREES)],
    package_dir={HLS_PACKAGE: "hls"},
)
