"""The clinic web app: accounts, patients, visits, uploads, a job queue and the reports.

``screener serve`` runs the FastAPI application (:func:`screener.web.app.create_app`),
``screener worker`` processes the job table (:mod:`screener.web.jobs`) with the same
library call as ``screener analyze``, ``screener create-user`` adds an account.
Everything the app stores lives in one data folder (:class:`screener.web.settings.WebSettings`).
"""
