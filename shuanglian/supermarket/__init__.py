"""Technology supermarket (科技成果超市): listings, QR cards, printable sheets, big screen."""
