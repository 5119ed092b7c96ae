; x87 error reporting the PC way: with CR0.NE clear, an unmasked x87
; exception asserts FERR#, which the board routes to IRQ13 on the slave
; 8259A; the handler acknowledges through port 0xF0 and FNCLEX.
; umbra-args: -bios {bin} -no-reboot
%include "lib.inc"
    bits 16
    org 0
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [0x2d * 4], irq13          ; IRQ13 = slave line 5, vector 0x2d
    mov word [0x2d * 4 + 2], 0xf000
    mov byte [seen], 0
    ; master: base 0x20, slave on IRQ2; slave: base 0x28, cascade id 2
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
    mov al, 0xdf                        ; slave: only IRQ13
    out 0xa1, al
    mov eax, cr0
    and eax, ~(1 << 5)                  ; NE clear: FERR# reporting
    mov cr0, eax
    fninit
    fnstcw [cw]
    and word [cw], ~(1 << 2)            ; unmask zero-divide
    fldcw [cw]
    fld1
    fldz
    fdivp st1, st0                      ; 1 / 0: ZE, unmasked: pending
    sti
    fwait                               ; a waiting instruction signals it
    mov cx, 1000
.spin:
    cmp byte [seen], 1
    je .ok
    loop .spin
    mov si, msg_bad
    call puts
    EXIT 1
.ok:
    fnstsw ax
    test al, 0x04                       ; ZE cleared by the handler's FNCLEX
    jnz .bad_sw
    mov si, msg_ok
    call puts
    EXIT 0
.bad_sw:
    mov si, msg_sw
    call puts
    EXIT 1

irq13:
    push ax
    mov byte [seen], 1
    xor al, al
    out 0xf0, al                        ; drop the FERR# latch
    fnclex
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
    pop ax
    iret

    PUTS16

msg_ok: db "IRQ13 from FERR#", 10, 0
msg_bad: db "no IRQ13", 10, 0
msg_sw: db "exception flag still set", 10, 0

seen equ 0x6000
cw equ 0x6002

    ROM16_TAIL start
