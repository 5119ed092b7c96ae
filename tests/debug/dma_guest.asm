; Guest for the device-write watchpoint test (tests/debug/gdb_test.sh,
; case dma): a Multiboot ELF with symbols that reads sector 0 of the
; primary master into `dmabuf` by bus-master DMA, with paging off.
;   - PCI configuration mechanism #1 (ports CF8h/CFCh): the PIIX IDE
;     function, bus 0 device 1 function 1, gets BAR4 (the bus-master
;     registers) at BM_BASE and I/O space and bus mastering enabled in its
;     command register (offset 4, bits 0 and 2).
;   - One PRD entry (SFF-8038i): `dmabuf`, 512 bytes, end-of-table bit 31.
;   - READ DMA (C8h, ATA/ATAPI-6 8.23) of LBA 0, one sector, then the
;     bus-master command register: bit 3 (to memory) and bit 0 (start).
; The transfer happens inside that last OUT; `dma_started` follows it.
; The guest then checks the bus-master status (interrupt set, active
; clear) and leaves through the exit device with 0 (exit status 1).

    bits 32

BM_BASE equ 0xc000

section .text
mb_header:
    dd 0x1BADB002, 0, -0x1BADB002      ; Multiboot v1, ELF layout

global _start, dmabuf, prd, dma_started

_start:
    mov esp, stack_top
    ; BAR4 = BM_BASE (an I/O BAR: bit 0 set)
    mov dx, 0xcf8
    mov eax, 0x80000000 | (1 << 11) | (1 << 8) | 0x20
    out dx, eax
    mov dx, 0xcfc
    mov eax, BM_BASE | 1
    out dx, eax
    ; command register: I/O space and bus master
    mov dx, 0xcf8
    mov eax, 0x80000000 | (1 << 11) | (1 << 8) | 0x04
    out dx, eax
    mov dx, 0xcfc
    mov ax, 0x0005
    out dx, ax
    ; the PRD table's address; clear the status's error and interrupt
    mov dx, BM_BASE + 4
    mov eax, prd
    out dx, eax
    mov dx, BM_BASE + 2
    mov al, 0x06
    out dx, al
    ; READ DMA, LBA 0, one sector, master
    mov dx, 0x1f6
    mov al, 0xe0
    out dx, al
    mov dx, 0x1f2
    mov al, 1
    out dx, al
    xor eax, eax
    mov dx, 0x1f3
    out dx, al
    mov dx, 0x1f4
    out dx, al
    mov dx, 0x1f5
    out dx, al
    mov dx, 0x1f7
    mov al, 0xc8
    out dx, al
    ; start the engine, device to memory
    mov dx, BM_BASE
    mov al, 0x09
    out dx, al
dma_started:
    mov dx, BM_BASE + 2
    in al, dx
    and al, 0x05
    cmp al, 0x04
    jne fail
    mov al, 0
    out 0xf4, al
fail:
    mov al, 1
    out 0xf4, al
    hlt

section .data
align 8
prd:
    dd dmabuf, 0x80000000 | 512

section .bss
align 4096
dmabuf:
    resb 512
    resb 4096
stack_top:
