#!/usr/bin/perl
# The TCP side of a test phone: listens on 127.0.0.1:PORT, answers each
# SIP request it gets 200 OK (Via, From, To, Call-ID and CSeq copied)
# and appends it to FILE, headed "TCP message received"; exits after
# COUNT requests or SECONDS.  sipp cannot take a message over 64 KiB.
#
# Usage: tcp_phone.pl PORT FILE COUNT SECONDS
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

my ($port, $file, $count, $secs) = @ARGV;
die "usage: $0 PORT FILE COUNT SECONDS\n" unless defined $secs;

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
				LocalPort => $port, Listen => 8,
				ReuseAddr => 1, Proto => 'tcp')
	or die "listen on $port: $!\n";
my $sel = IO::Select->new($srv);
my %buf;
my $deadline = time + $secs;

while ($count > 0 && time < $deadline) {
	for my $fh ($sel->can_read(0.2)) {
		if ($fh == $srv) {
			$sel->add($srv->accept);
			next;
		}
		my $n = sysread($fh, my $chunk, 65536);
		if (!$n) {
			$sel->remove($fh);
			close $fh;
			delete $buf{$fh};
			next;
		}
		$buf{$fh} .= $chunk;
		while ($buf{$fh} =~ /\r\n\r\n/) {
			my $eoh = index($buf{$fh}, "\r\n\r\n") + 4;
			my $hdr = substr($buf{$fh}, 0, $eoh);
			my ($len) = $hdr =~ /^(?:Content-Length|l):\s*(\d+)/mi;
			$len //= 0;
			last if length($buf{$fh}) < $eoh + $len;
			my $msg = substr($buf{$fh}, 0, $eoh + $len, '');
			open(my $out, '>>', $file) or die "$file: $!\n";
			print $out "TCP message received [" .
				length($msg) . "] bytes :\n\n$msg\n" .
				"-----------------------------------\n";
			close $out;
			next unless $hdr =~ /^[A-Z]+ /;
			my $resp = "SIP/2.0 200 OK\r\n";
			for my $h ('Via', 'From', 'To', 'Call-ID', 'CSeq') {
				$resp .= "$1\r\n" while
					$hdr =~ /^(\Q$h\E:[^\r\n]*)/mig;
			}
			print $fh $resp . "Content-Length: 0\r\n\r\n";
			$count--;
		}
	}
}
exit($count > 0 ? 1 : 0);
