; dev_poweron_irq.asm on a PC without APICs, where the 8259A's INTR goes
; straight to the CPU instead of through the local APIC's LINT0.
; umbra-args: -bios {bin} -no-reboot -no-apic
%include "dev_poweron_irq.asm"
