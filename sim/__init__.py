"""scamsim: agent-based model of scam-compound syndicates moving between jurisdictions."""
