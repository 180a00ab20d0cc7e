"""Calendar feeds: private, revocable iCalendar (RFC 5545) URLs holding what falls due for a person, or in one
relationship, for Outlook, Google Calendar and any other calendar that subscribes to a URL."""
