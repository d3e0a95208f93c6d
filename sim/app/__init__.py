"""The teaching demo in the browser: a Solara page of the scam-compound model.

- :mod:`sim.app.adapter`: the model behind the page (:class:`DemoModel`) and the
  lesson presets; no Solara.
- :mod:`sim.app.figures`: the live map and plots, drawn for a projector.
- :mod:`sim.app.views`: the Solara components and the ``Page`` that
  ``solara run`` serves.
- :mod:`sim.app.server`: ``scamsim app``: serving the page offline, LAN addresses.
"""
