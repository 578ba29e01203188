"""Rendered people with exact joint-angle truth, for sample videos and accuracy benchmarks.

An optional part of the project (``pip install -e ".[synth]"``): the screener never imports
it. Importing this package is cheap; the heavy modules (:mod:`screener_synth.body`,
:mod:`screener_synth.render`) import torch, anny and pyrender themselves.

Modules
-------
geometry
    Pure NumPy: rotations, the camera projection and the 2D/3D angle definitions of the
    output spec, used for the truth files.
kinematics
    Pure NumPy: smooth joint-angle curves for the single-leg squat, jog in place and walk,
    with stance phases, repetitions and planted faults.
body, render, encode, truth, clips, cli
    The anny body, the pyrender scene, H.264 encoding, truth files, clip presets and the
    command line (``python -m screener_synth generate``).
"""

__version__ = "0.1.0"
