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
feet, contact
    Pure NumPy: a posed foot against the floor (kept above it, rolled onto planted toes),
    and the rendered foot's floor contact around a labelled stance phase.
body, render, encode, truth, clips, cli
    The anny body, the pyrender scene, H.264 encoding, truth files, clip presets and the
    command line (``python -m screener_synth generate``).

Versions (written into every truth file): 0.1.0 until session 4; 0.2.0 (session 5) lifts
the jogging foot clear of the floor in swing, rolls the walking foot onto planted toes in
double support, and writes the rendered foot's floor contact. The same spec gives a
different walk or jog in 0.2.0. 0.3.0 (session 15) raises the walking heel from
terminal stance (heel-off drawn per clip at 25-40 % of the stride, 190-390 ms before
toe-off; before, from the other foot's landing at 50 %, 90-145 ms): the same spec gives
a different walk.
"""

__version__ = "0.3.0"
