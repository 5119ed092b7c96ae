; The ACPI PM timer's overflow event reaches the CPU as the SCI: with
; TMR_EN set, each change of the timer's bit 23 sets TMR_STS and raises
; IRQ 9 (level-triggered in the ELCR, on the slave 8259A) while the CPU
; idles in HLT, so the board must wake it at the timer's deadline.  The
; handler clears TMR_STS by writing it back.  At the second SCI the
; 24-bit timer has just wrapped to 0, and the TSC (from the same virtual
; clock) has advanced by 2^24 timer ticks' worth of time: 4.687 s.
; umbra-args: -bios {bin} -no-reboot -icount-limit 2000000000
%include "lib.inc"
    bits 16
    org 0
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [0x29 * 4], irq9          ; IVT[0x29] = F000:irq9
    mov word [0x29 * 4 + 2], 0xf000
    mov word [scis], 0
    ; 8259A pair: master base 0x20 with the slave on IR2, slave base 0x28
    mov al, 0x11
    out 0x20, al
    out 0xa0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xa1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xa1, al
    mov al, 0x01
    out 0x21, al
    out 0xa1, al
    mov al, 0xfb                        ; master: only the cascade
    out 0x21, al
    mov al, 0xfd                        ; slave: only IRQ 9
    out 0xa1, al
    mov dx, 0x4d1                       ; ELCR: IRQ 9 level-triggered
    mov al, 0x02
    out dx, al
    ; SCI_EN reads 1: the machine is always in ACPI mode.
    mov dx, 0x604
    in ax, dx
    cmp ax, 1
    jne fail
    mov si, msg_sci_en
    call puts
    rdtsc
    mov [tsc0], eax
    mov [tsc0 + 4], edx
    mov dx, 0x602                       ; PM1a_EN: TMR_EN
    mov ax, 1
    out dx, ax
    sti
.wait:
    hlt
    cmp word [scis], 2
    jb .wait
    cli
    mov dx, 0x608
    in eax, dx
    mov [tmr], eax
    rdtsc
    sub eax, [tsc0]
    sbb edx, [tsc0 + 4]
    mov [tsc0], eax
    mov si, msg_scis
    call puts
    ; The timer wrapped from 0xFFFFFF to 0 at the second SCI.
    cmp dword [tmr], 0x1000
    jae fail
    mov si, msg_wrap
    call puts
    ; 2^24 / 3.579545 MHz = 4.687 s = 468.7M TSC ticks at 100 MHz, less
    ; the little the timer had counted before TMR_EN.
    test edx, edx
    jnz fail
    cmp dword [tsc0], 455000000
    jb fail
    cmp dword [tsc0], 469000000
    ja fail
    mov si, msg_tsc
    call puts
    EXIT 0
fail:
    mov si, msg_bad
    call puts
    EXIT 1

irq9:
    push ax
    push dx
    mov dx, 0x600                       ; PM1a_STS
    in ax, dx
    test ax, 1                          ; TMR_STS
    jz .eoi
    out dx, ax                          ; write one to clear
    inc word [scis]                     ; DS = 0 in the main loop
.eoi:
    mov al, 0x20                        ; non-specific EOI, slave then master
    out 0xa0, al
    out 0x20, al
    pop dx
    pop ax
    iret

    PUTS16

msg_sci_en: db "sci_en set", 10, 0
msg_scis: db "2 sci interrupts from the pm timer", 10, 0
msg_wrap: db "pm timer wrapped at the second sci", 10, 0
msg_tsc: db "tsc agrees with the pm timer", 10, 0
msg_bad: db "BAD", 10, 0

scis equ 0x6000
tsc0 equ 0x6010
tmr equ 0x6020

    ROM16_TAIL start
