"""Pages, split by area: hotline set-up, calls, PBX imports, the hotline dashboard and capacity planner,
tickets, the knowledge base, the public pages (portal chat, public KB, CSAT) and the channel endpoints."""
