"""CareBridge: behavioral health screening and warm handoffs in chat."""
