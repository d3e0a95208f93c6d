"""The teaching demo in the browser (Mesa SolaraViz)."""
